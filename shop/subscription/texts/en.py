TEXTS: dict[str, str] = {
    # Placeholder entries: the only "server" an inactive subscription shows in the app.
    "placeholder_expired": "⛔ Subscription expired — renew: {renew}",
    "placeholder_inactive": "⛔ No active subscription — buy: {renew}",
    "placeholder_banned": "⛔ Access blocked — support: {renew}",
    "placeholder_pending": "⏳ Servers are being prepared — refresh in a few minutes",
    "placeholder_no_singbox_server": "⚠️ No server for this app — add the link to Happ or v2rayNG",
    "renew_where": "the shop's Telegram bot",
    # The browser page.
    "page_title": "{shop}: your VPN subscription",
    "status_active": "Active",
    "status_pending": "Active — servers are being prepared",
    "status_expired": "Expired",
    "status_inactive": "Not active",
    "status_banned": "Blocked",
    "expires_on": "Valid until {date}",
    "expired_on": "Expired on {date}",
    "days_left": "{days} days left",
    "traffic_used": "Traffic used: {used}",
    "servers_count": "Servers: {count}",
    "qr_caption": "Scan this QR code in the VPN app",
    "copy_link": "Copy link",
    "copied": "Copied",
    "add_to_app": "Add to an app",
    "renew_button": "Renew",
    "support_button": "Support",
    "page_heading": "Your VPN subscription",
    "install": "Install",
    "add": "Add",
    "howto_android": "Install the app, come back and tap “Add” beside it; or copy the link and add it in the app"
    " as a subscription.",
    "howto_ios": "Install the app from the App Store, tap “Add” beside it, then allow the VPN configuration.",
    "howto_windows": "Install the app, tap “Add” beside it or paste the link via “Add subscription”, then "
    "connect.",
    "howto_macos": "Install the app, tap “Add” beside it and connect.",
    "howto_linux": "Install the app and add the link as a subscription (“Add” opens it where the app supports "
    "it).",
    "not_found_title": "Link not found",
    "not_found_text": "This subscription link does not exist or was replaced by a new one. "
    "Get your current link in the shop's Telegram bot.",
}
