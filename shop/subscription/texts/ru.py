TEXTS: dict[str, str] = {
    # Placeholder entries: the only "server" an inactive subscription shows in the app.
    "placeholder_expired": "⛔ Подписка истекла — продлите: {renew}",
    "placeholder_inactive": "⛔ Нет активной подписки — оформите: {renew}",
    "placeholder_banned": "⛔ Доступ заблокирован — поддержка: {renew}",
    "placeholder_pending": "⏳ Серверы готовятся — обновите подписку через пару минут",
    "placeholder_no_singbox_server": "⚠️ Для этого приложения нет серверов — "
    "добавьте ссылку в Happ или v2rayNG",
    "renew_where": "Telegram-бот магазина",
    # The browser page.
    "page_title": "{shop}: ваша VPN подписка",
    "status_active": "Активна",
    "status_pending": "Активна — серверы готовятся",
    "status_expired": "Истекла",
    "status_inactive": "Не активна",
    "status_banned": "Заблокирована",
    "expires_on": "Действует до {date}",
    "expired_on": "Истекла {date}",
    "days_left": "Осталось дней: {days}",
    "traffic_used": "Израсходовано трафика: {used}",
    "servers_count": "Серверов: {count}",
    "qr_caption": "Отсканируйте QR-код в VPN-приложении",
    "copy_link": "Скопировать ссылку",
    "copied": "Скопировано",
    "add_to_app": "Добавить в приложение",
    "renew_button": "Продлить",
    "support_button": "Поддержка",
    "page_heading": "Ваша VPN подписка",
    "install": "Установить",
    "add": "Добавить",
    "howto_android": "Установите приложение, вернитесь и нажмите «Добавить» рядом с ним; или скопируйте ссылку и"
    " добавьте её в приложении как подписку.",
    "howto_ios": "Установите приложение из App Store, нажмите «Добавить» рядом с ним и разрешите добавить "
    "конфигурацию VPN.",
    "howto_windows": "Установите приложение, нажмите «Добавить» рядом с ним или вставьте ссылку через «Добавить "
    "подписку» и подключитесь.",
    "howto_macos": "Установите приложение, нажмите «Добавить» рядом с ним и подключитесь.",
    "howto_linux": "Установите приложение и добавьте ссылку как подписку («Добавить» откроет её, где "
    "приложение это умеет).",
    "not_found_title": "Ссылка не найдена",
    "not_found_text": "Такой ссылки на подписку нет или она заменена новой. "
    "Актуальная ссылка — в Telegram-боте магазина.",
}
