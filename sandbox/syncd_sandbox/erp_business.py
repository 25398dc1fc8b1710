"""What УТ 11's own code does in the sandbox, and what its users do.

The rules that matter to an integration (reference §4.5):
- a plain write of ``ЗаказКлиента`` clears ``Согласован``;
- posting sets ``Согласован`` when ``Статус`` is not ``НеСогласован`` (and
  ``ДатаСогласования`` on the false→true step), and writes the order's state
  into ``InformationRegister_СостоянияЗаказовКлиентов``;
- posting refuses (500, code -1) an order marked for deletion, without
  goods or without a partner — an application refusal, as 1C answers it;
- unposting clears ``Согласован`` and the order's state;
- the order's state record carries its payment state (``СуммаОплаты``,
  ``ПроцентОплаты``), kept when the state changes;
- the warehouse's progress is a record of
  ``InformationRegister_СтатусыСборкиИДоставки`` keyed by the order
  (``Распоряжение``): ``КСборке`` … ``Доставлен``, ``Отменен``, ``Возвращен``.

``Trade`` also acts as the 1C users do, for tests and the demo: a site order
arrives, a manager edits an order, the warehouse ships one, a customer pays
one, a courier delivers one, an order closes, goods arrive at a warehouse
(``receive_stock``) or are ordered out of it (``plan_shipment``).

    trade = Trade(ErpState()); trade.seed(customers=50, items=20, orders=30)
    order = trade.new_site_order(partner_ref, [(item_ref, 2, 990.0)])
    trade.ship(order["Ref_Key"])
    trade.pay(order["Ref_Key"], 100.0); trade.delivery_status(order["Ref_Key"], "Доставлен")
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from syncd_sandbox.erp_query import ODataFault
from syncd_sandbox.erp_schema import ENUMS, NAMESPACE
from syncd_sandbox.erp_state import EMPTY_DATE, EMPTY_GUID, ErpState, ExchangePlan

ORDERS = "Document_ЗаказКлиента"
SALES = "Document_РеализацияТоваровУслуг"
STATES = "InformationRegister_СостоянияЗаказовКлиентов"
DELIVERY = "InformationRegister_СтатусыСборкиИДоставки"
STOCK = "AccumulationRegister_ТоварыНаСкладах"
STATE_OF_STATUS = {
    "НеСогласован": "ОжидаетсяСогласование",
    "КОбеспечению": "ГотовКОбеспечению",
    "КОтгрузке": "ГотовКОтгрузке",
    "Закрыт": "Закрыт",
}
FIRST_NAMES = ["Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей", "Елена", "Дмитрий"]
LAST_NAMES = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева"]
GOODS = ["Чайник", "Утюг", "Пылесос", "Фен", "Тостер", "Блендер", "Миксер", "Кофеварка"]


class Trade:
    def __init__(self, state: ErpState) -> None:
        self.state = state
        self.plan = ExchangePlan(state)
        self.refusals: dict[str, str] = {}  # order ref -> message: posting refused on purpose

    # -- what OData writes trigger -------------------------------------------
    def write(self, set_name: str, key: tuple | None, body: dict, *, data_load: bool) -> dict:
        with self.state.lock:
            if key is None:
                row = self.state.create(set_name, body, data_load=data_load)
            else:
                row = self.state.patch(set_name, key, body, data_load=data_load)
            if set_name in (ORDERS, SALES, "Document_ЧекККМ") and not data_load:
                _recount(row)
                if set_name == ORDERS:
                    row["Согласован"] = False  # ИзменитьПризнакСогласованностиДокумента
            return row

    def post(self, set_name: str, key: tuple) -> dict:
        with self.state.lock:
            row = self.state.get(set_name, key)
            ref = row["Ref_Key"]
            if row["DeletionMark"]:
                raise _refusal("Помеченный на удаление документ не может быть проведен")
            if set_name == ORDERS:
                self._check_order(row)
                agreed = row["Статус"] != "НеСогласован"
                changes: dict[str, Any] = {"Posted": True, "Согласован": agreed}
                if agreed and not row["Согласован"]:
                    changes["ДатаСогласования"] = self.state.stamp()
                row = self.state.patch(set_name, key, changes)
                shipped = self._shipped_share(ref)
                if shipped >= 100.0 and row["Статус"] != "Закрыт":
                    # 1C derives the state from the shipments too: posting a shipped
                    # order again leaves it ready to close, it does not undo the shipment
                    self._set_order_state(ref, "ГотовКЗакрытию", shipped=shipped)
                else:
                    self._set_order_state(ref, STATE_OF_STATUS.get(row["Статус"], ""), shipped)
            else:
                row = self.state.patch(set_name, key, {"Posted": True})
            return row

    def unpost(self, set_name: str, key: tuple) -> dict:
        with self.state.lock:
            row = self.state.patch(set_name, key, {"Posted": False})
            if set_name == ORDERS:
                row["Согласован"] = False
                state_key = (row["Ref_Key"], f"{NAMESPACE}.{ORDERS}")
                if state_key in self.state.objects[STATES]:
                    self.state.remove(STATES, state_key, physical=False)
            return row

    def _check_order(self, row: dict) -> None:
        if row["Ref_Key"] in self.refusals:
            raise _refusal(self.refusals[row["Ref_Key"]])
        if not row.get("Товары"):
            raise _refusal('Не заполнена табличная часть "Товары"')
        if row["Партнер_Key"] == EMPTY_GUID:
            raise _refusal('Поле "Клиент" не заполнено')

    def _shipped_share(self, ref: str) -> float:
        """How much of the order its posted shipments cover, as its state record says."""
        try:
            record = self.state.get(STATES, (ref, f"{NAMESPACE}.{ORDERS}"))
        except ODataFault:  # no state yet: a new order
            return 0.0
        return float(record.get("ПроцентОтгрузки") or 0.0)

    def _set_order_state(
        self, ref: str, state: str, shipped: float = 0.0, paid: float | None = None
    ) -> None:
        """Write the order's state record; its payment state stays unless ``paid`` is given."""
        before = self.state.objects[STATES].get((ref, f"{NAMESPACE}.{ORDERS}")) or {}
        total = float(self.state.get(ORDERS, (ref,)).get("СуммаДокумента") or 0.0)
        percent = float(before.get("ПроцентОплаты") or 0.0) if paid is None else paid
        debt = max(shipped - percent, 0.0)
        self.state.put_record(
            STATES,
            {
                "Заказ": ref,
                "Заказ_Type": f"{NAMESPACE}.{ORDERS}",
                "Состояние": state,
                "ДатаСобытия": self.state.stamp(),
                "СуммаОплаты": round(total * percent / 100, 2),
                "ПроцентОплаты": percent,
                "СуммаОтгрузки": round(total * shipped / 100, 2),
                "ПроцентОтгрузки": shipped,
                "СуммаДолга": round(total * debt / 100, 2),
                "ПроцентДолга": debt,
            },
        )

    # -- what 1C users do ----------------------------------------------------
    def new_site_order(
        self,
        partner: str,
        lines: list[tuple[str, float, float]],
        *,
        warehouse: str | None = None,
        site_number: str = "",
        status: str = "НеСогласован",
    ) -> dict:
        """A site order as the site exchange writes it: posted, waiting for agreement."""
        warehouse = warehouse or self.state.rows("Catalog_Склады")[0]["Ref_Key"]
        body = {
            "Статус": status,
            "Партнер_Key": partner,
            "Склад_Key": warehouse,
            "НомерПоДаннымКлиента": site_number,
            "ХозяйственнаяОперация": "РеализацияКлиенту",
            "СпособДоставки": "Самовывоз",
            "Товары": [
                {
                    "LineNumber": i,
                    "Номенклатура_Key": item,
                    "Количество": qty,
                    "Цена": price,
                    "ВариантОбеспечения": "КОбеспечению",
                    "Склад_Key": warehouse,
                    "КодСтроки": i,
                }
                for i, (item, qty, price) in enumerate(lines, start=1)
            ],
        }
        with self.state.lock:
            row = self.write(ORDERS, None, body, data_load=False)
            return self.post(ORDERS, (row["Ref_Key"],))

    def manager_edit(self, ref: str, changes: dict) -> dict:
        """A manager edits the order in 1C and posts it again."""
        with self.state.lock:
            self.write(ORDERS, (ref,), changes, data_load=False)
            return self.post(ORDERS, (ref,))

    def ship(self, ref: str) -> dict:
        """The warehouse ships the order: a posted РеализацияТоваровУслуг and stock out."""
        with self.state.lock:
            order = self.state.get(ORDERS, (ref,))
            if order["Статус"] == "НеСогласован" or not order["Posted"]:
                raise ValueError(f"order {order['Number']} is not agreed: cannot ship it")
            lines = [line for line in order["Товары"] if not line["Отменено"]]
            sale = self.write(
                SALES,
                None,
                {
                    "Статус": "Отгружено",
                    "Согласован": True,
                    "Партнер_Key": order["Партнер_Key"],
                    "Склад_Key": order["Склад_Key"],
                    "ЗаказКлиента": ref,
                    "ЗаказКлиента_Type": f"{NAMESPACE}.{ORDERS}",
                    "Товары": [
                        {k: line[k] for k in ("Номенклатура_Key", "Количество", "Цена")}
                        | {"LineNumber": i}
                        for i, line in enumerate(lines, start=1)
                    ],
                },
                data_load=False,
            )
            sale = self.post(SALES, (sale["Ref_Key"],))
            self._move_stock(sale, "Expense")
            self._set_order_state(ref, "ГотовКЗакрытию", shipped=100.0)
            return sale

    def pay(self, ref: str, percent: float = 100.0) -> dict:
        """The customer pays (a payment posted against the order): the order's state
        record now says how much is paid."""
        with self.state.lock:
            record = self.state.get(STATES, (ref, f"{NAMESPACE}.{ORDERS}"))
            shipped = float(record.get("ПроцентОтгрузки") or 0.0)
            self._set_order_state(ref, record["Состояние"], shipped, paid=percent)
            return self.state.get(STATES, (ref, f"{NAMESPACE}.{ORDERS}"))

    def delivery_status(self, ref: str, status: str, reason: str = "") -> dict:
        """The warehouse or the courier moves the order on: its assembly and delivery
        status record (``ЗаписатьСтатусИзРаспоряжения``), keyed by the order."""
        if status not in ENUMS["СтатусыСборкиИДоставки"]:
            raise ValueError(f"not a value of СтатусыСборкиИДоставки: {status!r}")
        with self.state.lock:
            lines = [ln for ln in self.state.get(ORDERS, (ref,))["Товары"] if not ln["Отменено"]]
            before = self.state.objects[DELIVERY].get((ref, f"{NAMESPACE}.{ORDERS}")) or {}
            assembled = status in ("Собран", "ГотовКДоставке", "Доставляется", "Доставлен")
            stamp = self.state.stamp()
            assembled_at = stamp if status == "Собран" else before.get("ДатаСборки", EMPTY_DATE)
            delivered = status == "Доставлен"
            delivered_at = stamp if delivered else before.get("ДатаДоставки", EMPTY_DATE)
            return self.state.put_record(
                DELIVERY,
                {
                    "Распоряжение": ref,
                    "Распоряжение_Type": f"{NAMESPACE}.{ORDERS}",
                    "Статус": status,
                    "ДатаСборки": assembled_at,
                    "ДатаДоставки": delivered_at,
                    "ПричинаОтмены": reason,
                    "КоличествоСтрокВЗаказе": len(lines),
                    "КоличествоСтрокСобрано": len(lines) if assembled else 0,
                },
            )

    def close(self, ref: str) -> dict:
        with self.state.lock:
            row = self.manager_edit(ref, {"Статус": "Закрыт"})
            self._set_order_state(ref, "Закрыт", shipped=100.0)
            return row

    def cancel(self, ref: str) -> dict:
        """Every line cancelled and the order closed, as УТ cancels an order."""
        with self.state.lock:
            order = self.state.get(ORDERS, (ref,))
            lines = [{**line, "Отменено": True} for line in order["Товары"]]
            return self.manager_edit(ref, {"Товары": lines, "Статус": "Закрыт"})

    def pos_receipt(
        self,
        lines: list[tuple[str, float, float]],
        *,
        phone: str = "",
        email: str = "",
        card: str = "",
        status: str = "Пробитый",
        operation: str = "Продажа",
    ) -> dict:
        """A cashier's receipt in a 1C:Розница store base (with its discount card, if any)."""
        with self.state.lock:
            card_ref = None
            if card:
                found = self.state.find("Catalog_ИнформационныеКарты", КодКарты=card)
                found = found or self.state.create(
                    "Catalog_ИнформационныеКарты", {"Description": card, "КодКарты": card}
                )
                card_ref = found["Ref_Key"]
            count = len(self.state.rows("Document_ЧекККМ")) + 1
            body = {
                "НомерЧекаККМ": count,
                "СтатусЧекаККМ": status,
                "ВидОперации": operation,
                "Телефон": phone,
                "АдресЭП": email,
                "Товары": [
                    {"LineNumber": i, "Номенклатура_Key": item, "Количество": qty, "Цена": price}
                    for i, (item, qty, price) in enumerate(lines, start=1)
                ],
            }
            if card_ref:
                body["ДисконтнаяКарта_Key"] = card_ref
            row = self.write("Document_ЧекККМ", None, body, data_load=False)
            return self.post("Document_ЧекККМ", (row["Ref_Key"],))

    def receive_stock(
        self, item: str, warehouse: str, quantity: float, characteristic: str = EMPTY_GUID
    ) -> dict:
        """Goods arrive at a warehouse (a posted receipt): ``ВНаличии`` goes up."""
        return self._stock_document(item, warehouse, {"ВНаличии": quantity}, characteristic)

    def plan_shipment(
        self, item: str, warehouse: str, quantity: float, characteristic: str = EMPTY_GUID
    ) -> dict:
        """Goods of a warehouse are ordered out (a posted shipment order): ``КОтгрузке``
        goes up, so less of it is free."""
        return self._stock_document(item, warehouse, {"КОтгрузке": quantity}, characteristic)

    def _stock_document(
        self, item: str, warehouse: str, resources: dict, characteristic: str
    ) -> dict:
        with self.state.lock:
            doc = {"Ref_Key": str(uuid.uuid4()), "Date": self.state.stamp()}
            line = {"Номенклатура_Key": item, "Характеристика_Key": characteristic, **resources}
            self._move_stock({**doc, "Товары": [line], "Склад_Key": warehouse}, "Receipt")
            return doc

    def _move_stock(self, doc: dict, kind: str) -> None:
        recorder = (doc["Ref_Key"], f"{NAMESPACE}.{SALES}")
        records = [
            {
                "Recorder": recorder[0],
                "Recorder_Type": recorder[1],
                "LineNumber": i,
                "Period": doc["Date"],
                "Active": True,
                "RecordType": kind,
                "Номенклатура_Key": line["Номенклатура_Key"],
                "Характеристика_Key": line.get("Характеристика_Key", EMPTY_GUID),
                "Назначение_Key": EMPTY_GUID,
                "Склад_Key": doc.get("Склад_Key", EMPTY_GUID),
                "Помещение_Key": EMPTY_GUID,
                "Серия_Key": EMPTY_GUID,
                "ВНаличии": line.get("ВНаличии", line.get("Количество", 0.0)),
                "КОтгрузке": line.get("КОтгрузке", 0.0),
            }
            for i, line in enumerate(doc["Товары"], start=1)
        ]
        self.state.put_record(
            STOCK, {"Recorder": recorder[0], "Recorder_Type": recorder[1], "RecordSet": records}
        )

    # -- sample data ---------------------------------------------------------
    def seed(
        self, *, customers: int = 20, items: int = 10, orders: int = 10, seed: int = 1
    ) -> None:
        rnd = random.Random(seed)
        with self.state.lock:
            stores = [
                self.state.create("Catalog_Склады", {"Description": name, "Адрес": addr})
                for name, addr in (("Основной склад", "Москва"), ("Магазин на Тверской", "Москва"))
            ]
            goods = [
                self.state.create(
                    "Catalog_Номенклатура",
                    {"Description": f"{rnd.choice(GOODS)} модель {n}", "Артикул": f"A-{n:05d}"},
                )
                for n in range(1, items + 1)
            ]
            partners = [self._partner(rnd, n) for n in range(1, customers + 1)]
            for good in goods:
                self.receive_stock(good["Ref_Key"], stores[0]["Ref_Key"], rnd.randint(5, 200))
            for n in range(orders):
                lines = [
                    (g["Ref_Key"], rnd.randint(1, 3), float(rnd.randint(5, 500) * 10))
                    for g in rnd.sample(goods, k=min(len(goods), rnd.randint(1, 4)))
                ]
                partner = rnd.choice(partners)["Ref_Key"]
                self.new_site_order(partner, lines, site_number=f"S-{1000 + n}")

    def _partner(self, rnd: random.Random, n: int) -> dict:
        name = f"{rnd.choice(LAST_NAMES)} {rnd.choice(FIRST_NAMES)}"
        phone = f"+7 (9{rnd.randint(10, 99)}) {rnd.randint(100, 999)}-{rnd.randint(10, 99)}"
        phone += f"-{n % 100:02d}"
        partner = self.state.create(
            "Catalog_Партнеры",
            {
                "Description": name,
                "НаименованиеПолное": name,
                "Клиент": True,
                "ДатаРегистрации": self.state.stamp(),
                "КонтактнаяИнформация": [
                    {"LineNumber": 1, "Тип": "Телефон", "Представление": phone},
                    {
                        "LineNumber": 2,
                        "Тип": "АдресЭлектроннойПочты",
                        "Представление": f"client{n}@example.ru",
                        "АдресЭП": f"client{n}@example.ru",
                    },
                ],
            },
        )
        self.state.create(
            "Catalog_Контрагенты", {"Description": name, "Партнер_Key": partner["Ref_Key"]}
        )
        return partner


def _recount(row: dict) -> None:
    total = 0.0
    for line in row.get("Товары", []):
        if "Цена" in line:
            line["Сумма"] = round(float(line["Количество"]) * float(line["Цена"]), 2)
            if not line.get("Отменено"):
                total += line["Сумма"]
    if "СуммаДокумента" in row:
        row["СуммаДокумента"] = round(total, 2)


def _refusal(message: str) -> ODataFault:
    return ODataFault(500, -1, f"Ошибка при вызове метода контекста (Записать): {message}")
