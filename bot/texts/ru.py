TEXTS: dict[str, str] = {
    "welcome": "👋 Добро пожаловать в {shop}, {name}!",
    "welcome_back": "👋 Снова здравствуйте, {name}!",
    # Платежи
    "pay_delivered": "✅ Оплата получена. Подписка активна до {expires}.\n\nВаша ссылка: {url}",
    "pay_canceled": "❌ Платёж отменён ({detail}). Деньги не списаны, можно попробовать снова.",
    "pay_expired": "⌛ Время на оплату истекло. Начните новый платёж из меню.",
    "pay_review": "🔎 Мы получили оплату и проверяем её. Скоро напишем.",
    "pay_refunded_undeliverable": "↩️ Мы не смогли выдать заказ, поэтому оплата полностью возвращена.",
    "pay_extra_charge_refunded": "↩️ Вы оплатили один заказ дважды; второй платёж возвращён.",
    "pay_transfer_claimed": "⏳ Спасибо! Оператор проверяет ваш перевод.",
    "pay_transfer_declined": "❌ Оператор не нашёл ваш перевод. Если вы платили, напишите в поддержку.",
    "pay_refund_applied": "↩️ Сделан возврат; подписка теперь заканчивается {expires}.",
    "pay_unknown": "Этот платёж не ваш или больше не существует. Начните заново из меню.",
    "pay_already_closed": "Этот заказ уже оплачен или закрыт.",
    "pay_price_changed": "Цена изменилась. Начните заново из меню.",
    "pay_plan_unavailable": "Этот тариф больше не продаётся.",
    "pay_method_unavailable": "Этот способ оплаты сейчас недоступен.",
    "pay_transfer_requisites": (
        "Переведите ровно {amount} {currency}:\n{requisites}\n\nЗатем нажмите «Я оплатил»."
    ),
    "pay_transfer_done_button": "Я оплатил",
    "pay_transfer_noted": "Принято, оператор проверит перевод.",
    "pay_try_later": "Сейчас не получилось принять платёж; попробуйте через минуту.",
    # Операторам
    "op_sale": "💰 Продажа {payment_id}: {amount} {currency} через {method}, пользователь {user_id}.",
    "op_review": (
        "⚠️ Платёж {payment_id} ({amount} {currency} через {method}, "
        "пользователь {user_id}) требует проверки: {detail}"
    ),
    "op_refunded_undeliverable": "↩️ Платёж {payment_id} (пользователь {user_id}) возвращён: {detail}",
    "op_extra_charge_refunded": "↩️ Повторный платёж {detail} по заказу {payment_id} возвращён.",
    "op_transfer_claimed": (
        "💳 Пользователь {user_id} сообщает о переводе {amount} {currency} (платёж {payment_id})."
    ),
    "op_refund_applied": (
        "↩️ Возврат по платежу {payment_id} (пользователь {user_id}) учтён; доступ до {expires}."
    ),
    "op_approve": "✅ Подтвердить",
    "op_decline": "❌ Отклонить",
    "op_decision_recorded": "Записано.",
    "op_not_operator": "Это могут делать только операторы.",
}
