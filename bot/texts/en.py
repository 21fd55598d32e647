TEXTS: dict[str, str] = {
    "welcome": "👋 Welcome to {shop}, {name}!",
    "welcome_back": "👋 Welcome back, {name}!",
}
