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
    "how_to_connect": "Как подключиться",
    "howto_android": "Установите Happ или v2rayNG из Google Play, нажмите его кнопку выше "
    "или скопируйте ссылку и добавьте её в приложении как подписку.",
    "howto_ios": "Установите Happ, v2RayTun или Streisand из App Store, нажмите его кнопку выше "
    "и разрешите добавить конфигурацию VPN.",
    "howto_windows": "Установите Happ или Hiddify, нажмите кнопку выше или вставьте ссылку "
    "через «Добавить подписку» и подключитесь.",
    "howto_macos": "Установите Happ, v2RayTun или Hiddify, нажмите его кнопку выше и подключитесь.",
    "howto_linux": "Установите Hiddify или клиент Clash (mihomo) и добавьте ссылку как подписку.",
    "not_found_title": "Ссылка не найдена",
    "not_found_text": "Такой ссылки на подписку нет или она заменена новой. "
    "Актуальная ссылка — в Telegram-боте магазина.",
}
