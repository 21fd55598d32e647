TEXTS: dict[str, str] = {
    "welcome": "👋 Добро пожаловать в {shop}, {name}!",
    "welcome_back": "👋 Снова здравствуйте, {name}!",
}
