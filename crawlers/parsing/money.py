"""Amounts and currencies as sources write them: 'EUR 2 000 000', '$749.982.430.291', 'USD 1.5 million'.

`parse_amounts` finds every amount in free text, with multipliers ("1.5 million", "200 millones
de pesos"); a single field value that it cannot read goes to price-parser, which knows many
more symbol and separator conventions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from price_parser import Price

_SYMBOLS = {"€": "EUR", "us$": "USD", "usd": "USD", "eur": "EUR", "cop": "COP", "£": "GBP", "gbp": "GBP",
            "¥": "JPY", "jpy": "JPY", "krw": "KRW", "₩": "KRW", "chf": "CHF", "cad": "CAD", "sek": "SEK",
            "nok": "NOK", "dkk": "DKK", "brl": "BRL", "r$": "BRL", "mxn": "MXN", "col$": "COP", "euros": "EUR",
            "euro": "EUR", "dólares": "USD", "dolares": "USD", "dollars": "USD", "pesos": "COP"}
_MULTIPLIERS = {"k": 1e3, "mil": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6,
                "millón": 1e6, "millones": 1e6, "millon": 1e6, "bn": 1e9, "billion": 1e9, "billones": 1e12,
                "billón": 1e12, "mil millones": 1e9, "mm": 1e6}
_NUMBER = re.compile(
    r"(?P<cur1>US\$|COL\$|R\$|€|£|¥|₩|\$|\b(?:USD|EUR|COP|GBP|JPY|KRW|CHF|CAD|SEK|NOK|DKK|BRL|MXN)\b)?\s*"
    r"(?P<num>\d{1,3}(?:[.,\s\u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?:\s*(?P<mult>mil millones|millones|millón|millon|million|millions|billion|billones|billón|thousand|mil|mn|bn|mm|m|k)\b)?"
    r"\s*(?:de\s+)?(?P<cur2>\b(?:USD|EUR|COP|GBP|JPY|KRW|CHF|CAD|SEK|NOK|DKK|BRL|MXN|euros?|d[oó]lares|dollars|pesos)\b)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    amount: float
    currency: str | None


def _to_number(raw: str) -> float | None:
    s = raw.replace("\u00a0", " ").strip()
    if " " in s:
        s = s.replace(" ", "")
    # Both separators: the last one is the decimal mark.
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif s.count(".") > 1 or s.count(",") > 1:
        s = s.replace(".", "").replace(",", "")
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        head, tail = s.split(sep)
        # 1.500 / 2,000 are thousands; 1.5 / 2,75 are decimals.
        s = head + tail if len(tail) == 3 else head + "." + tail
    try:
        return float(s)
    except ValueError:
        return None


def parse_amounts(text: str | None, default_currency: str | None = None, *,
                  require_marker: bool = False) -> list[Money]:
    """Every amount in `text` that carries a currency (or the default), in order.

    With `require_marker`, a bare number never counts, whatever the default: in running
    text "hasta el 18 de marzo de 2027" holds no amount. The default then only decides what
    a bare "$" means (pesos on a Colombian site, dollars elsewhere).
    """
    if not text:
        return []
    out: list[Money] = []
    for m in _NUMBER.finditer(text):
        cur_raw = (m.group("cur1") or m.group("cur2") or "").lower()
        currency = _SYMBOLS.get(cur_raw) or (cur_raw.upper() if len(cur_raw) == 3 and cur_raw.isalpha() else None)
        if cur_raw == "$":
            currency = default_currency or "USD"
        if currency is None and (default_currency is None or require_marker):
            continue
        value = _to_number(m.group("num"))
        if value is None:
            continue
        mult = (m.group("mult") or "").lower()
        if mult:
            value *= _MULTIPLIERS.get(mult, 1)
        out.append(Money(value, currency or default_currency))
    return out


def currency_code(symbol: str | None) -> str | None:
    """ISO 4217 code for a symbol or name as written ('US$', '€', 'euros', 'usd')."""
    if not symbol:
        return None
    raw = symbol.strip().lower()
    if raw in _SYMBOLS:
        return _SYMBOLS[raw]
    return raw.upper() if len(raw) == 3 and raw.isalpha() else None


def parse_amount(value: float | str | None, default_currency: str | None = None) -> Money | None:
    """One amount from a field that holds one ('USD 50,000', '$749.982.430.291', 120000)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Money(float(value), default_currency)
    text = str(value).strip()
    found = parse_amounts(text, default_currency)
    if found:
        return found[0]
    price = Price.fromstring(text, currency_hint=default_currency)
    if price.amount is not None:
        currency = currency_code(price.currency)
        if price.currency == "$":
            currency = default_currency or "USD"
        return Money(float(price.amount), currency or default_currency)
    return None


# Phrases that introduce an amount in running text ("Funding Information: …", "Monto: hasta …");
# a dot followed by a digit is a thousands separator, not the end of the sentence.
_AMOUNT_CUE = re.compile(
    r"(funding (?:amount|information)|grant (?:size|amount)|amount|award(?:s)? (?:of|up to)|up to|maximum of|budget|"
    r"range (?:from|between)|ranging from|between|prize|"
    r"monto|importe|cuant[ií]a|hasta|valor|financiaci[oó]n de|recursos? (?:de|por))(?:[^.\n]|\.(?=\d)){0,120}", re.I)


def amount_sentences(text: str | None) -> str | None:
    """The phrases of a text that state an amount, joined for `parse_amounts`; None if none."""
    if not text:
        return None
    found = [m.group(0) for m in _AMOUNT_CUE.finditer(text)]
    return " | ".join(found) or None
