"""The report's language: its message catalogue and how it writes numbers, dates and labels.

``[report] language = "en"`` (default) or ``"fr"``. Every sentence, title, column header
and axis label of the report comes from :data:`CATALOGUE` through :class:`Language`; no
section holds its own wording. A section asks::

    lang = ctx.lang                      # Language of the spec
    lang("effects.title")                # "Effects" / "Effets"
    lang("flow.units", n=lang.count(240))  # placeholders filled with already formatted text

Numbers are formatted by the same object, so a French report says ``12 345,6`` (narrow
no-break space between thousands, decimal comma), ``3,2 %`` (no-break space before the
sign), ``IC à 95 %`` and ``29 novembre 2026``; an English one ``12,345.6``, ``3.2%``,
``95% CI`` and ``29 November 2026``. The functions are small and local (no locale database:
the report must read the same on every machine, whatever its ``LANG``).

Labels (list names, candidate names, outcome labels) are never cut mid-word:
:func:`shorten` cuts at a word boundary and marks the cut with an ellipsis, :func:`wrap`
breaks at word boundaries only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from importlib import resources

from fieldexp.errors import SpecificationError

__all__ = [
    "CATALOGUE",
    "ENGLISH",
    "LANGUAGES",
    "Language",
    "get_language",
    "shorten",
    "wrap",
]

#: Languages a report can be written in.
LANGUAGES = ("en", "fr")

#: A ``{name}`` placeholder of a message (no attribute or index access: not str.format).
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

#: A French high punctuation mark ending a word or following a space (``x : y``, ``a; b``).
_FR_SPACE = re.compile(r"(?:(?<=\S)|[ \u00a0\u202f])([:;?!])(?=\s|$)")

#: Narrow no-break space (French thousands separator) and no-break space (before % and units).
NNBSP = "\u202f"
NBSP = "\u00a0"

_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_CURRENCY_FR = {"EUR": "€", "USD": "$US", "GBP": "£GB"}


def _nfc(text: str) -> str:
    """Composed Unicode (``É`` is one character, never split from its accent)."""
    return unicodedata.normalize("NFC", str(text))


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut at a word boundary and ended by ``…``.

    A label is never cut inside a word: when even the first word is longer than ``width``,
    the whole first word is kept (then ``…``). Accented letters count as one character.
    """
    s = " ".join(_nfc(text).split())
    if len(s) <= width:
        return s
    cut = s.rfind(" ", 0, max(width, 1))
    if cut <= 0:
        first = s.split(" ", 1)[0]
        return first if first == s else first + "…"
    return s[:cut].rstrip(" ,;:–-") + "…"


def wrap(text: str, width: int, *, max_lines: int | None = None) -> str:
    """``text`` on lines of about ``width`` characters, broken between words only.

    With ``max_lines``, the last line is shortened at a word boundary (``…``).
    """
    s = " ".join(_nfc(text).split())
    lines = textwrap.wrap(s, width, break_long_words=False, break_on_hyphens=False) or [s]
    if max_lines is not None and len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], shorten(rest, width)]
        if not lines[-1].endswith("…"):
            lines[-1] += "…"
    return "\n".join(lines)


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return sep.join(reversed(out))


@dataclass(frozen=True, slots=True)
class Language:
    """Messages and number/date formats of one report language (``"en"`` or ``"fr"``).

    ``lang(key, **values)`` is the message ``key`` of :data:`CATALOGUE` with its
    ``{placeholders}`` filled (values already formatted by the methods below).
    """

    code: str = "en"

    def __call__(self, key: str, **values: object) -> str:
        text = CATALOGUE[key][0 if self.code == "en" else 1]
        if values:  # one pass, names only: a value holding "{x}" stays as it is
            text = _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)
        if self.french:  # French spacing: a no-break space before : ; ? ! (never a line break)
            text = _FR_SPACE.sub(
                lambda m: (NBSP if m.group(1) == ":" else NNBSP) + m.group(1), text
            )
        return text

    def term(self, prefix: str, value: object) -> str:
        """A fixed term of a lower layer (``"used"``, ``"set aside"``...) in this language.

        ``lang.term("status", "set aside")`` is the message ``status.set aside`` when the
        catalogue has it, else ``value`` as it is (data: a code, a reason from a file).
        """
        key = f"{prefix}.{value}"
        if key in CATALOGUE:
            return self(key)
        return self.notes([value])[0] if prefix == "reason" else str(value)

    def notes(self, texts: object) -> list[str]:
        """Sentences of lower layers (estimator and reader notes) in this language.

        A note that matches a pattern of :data:`NOTE_PATTERNS` is written from its catalogue
        message; any other note is kept as it is (English), never dropped.
        """
        out = []
        for text in texts:  # type: ignore[attr-defined]
            text = str(text)
            if self.french:
                for pattern, key in NOTE_PATTERNS:
                    m = pattern.fullmatch(text.strip())
                    if m:
                        text = self(key, **{k: self._value(v) for k, v in m.groupdict().items()})
                        break
            out.append(text)
        return out

    def _value(self, value: str | None) -> str:
        """A value caught in an English note: a count rewritten, a known reason translated."""
        if value is None:
            return ""
        if re.fullmatch(r"\d{1,3}(,\d{3})*", value):
            return self.count(int(value.replace(",", "")))
        if value.startswith(" (arm "):  # " (arm 0: 90, arm 1: 3)"
            return re.sub(
                r"\barm (\S+):", lambda m: self("figure.arm", arm=m.group(1))[2:] + ":", value
            )
        for prefix in ("reason", "dose"):  # catalogue lookups only: no pattern recursion
            if f"{prefix}.{value}" in CATALOGUE:
                return self(f"{prefix}.{value}")
        return value

    @property
    def french(self) -> bool:
        return self.code == "fr"

    # -- numbers ---------------------------------------------------------------------
    def number(self, x: float, decimals: int = 0, *, sign: bool = False) -> str:
        """``x`` with ``decimals`` decimals and grouped thousands (``12,345.6`` / ``12 345,6``)."""
        if isinstance(x, float) and math.isnan(x):
            return "–"
        if isinstance(x, float) and math.isinf(x):
            return ("+" if sign and x > 0 else "-" if x < 0 else "") + "∞"
        text = f"{abs(x):.{decimals}f}"
        whole, _, frac = text.partition(".")
        neg = x < 0 and any(ch not in "0." for ch in text)
        head = ("-" if neg else "+" if sign else "") + _group(whole, NNBSP if self.french else ",")
        return head + (("," if self.french else ".") + frac if frac else "")

    def count(self, n: float) -> str:
        """A count (``12,345`` / ``12 345``)."""
        return self.number(float(n), 0)

    def pct(self, x: float, decimals: int = 1) -> str:
        """A proportion in percent (``0.032`` -> ``3.2%`` / ``3,2 %``)."""
        return self.number(100 * x, decimals) + (NBSP + "%" if self.french else "%")

    def percent_sign(self, value: str) -> str:
        """``value`` followed by the percent sign as the language writes it."""
        return value + (NBSP + "%" if self.french else "%")

    def pp(self, x: float) -> str:
        """A proportion in signed percentage points (``0.031`` -> ``+3.1`` / ``+3,1``)."""
        return self.number(100 * x, 1, sign=True)

    def ci_pp(self, lo: float, hi: float) -> str:
        """An interval in percentage points (``+1.0 to +3.0 points`` / ``+1,0 à +3,0 points``)."""
        return self("common.ci_points", low=self.pp(lo), high=self.pp(hi))

    def g(self, x: float, digits: int = 3) -> str:
        """Like ``format(x, '.3g')`` with the language's decimal mark."""
        text = f"{x:.{digits}g}"
        if not self.french:
            return text
        mantissa, e, exponent = text.partition("e")
        mantissa = mantissa.replace(".", ",")
        if not e:
            return mantissa
        power = str(int(exponent)).translate(_SUPERSCRIPT)
        return f"{mantissa}{NNBSP}×{NNBSP}10{power}"

    def fixed(self, x: float, decimals: int) -> str:
        """``x`` with ``decimals`` decimals, no grouping (an estimate, a statistic)."""
        text = f"{x:.{decimals}f}"
        return text.replace(".", ",") if self.french else text

    def p(self, x: float) -> str:
        """A p-value for a table (``<0.001`` / ``<0,001``, else three decimals)."""
        return ("<" + self.fixed(0.001, 3)) if x < 0.001 else self.fixed(x, 3)

    def level(self, level: int) -> str:
        """``95%`` / ``95 %`` (a confidence level)."""
        return self.percent_sign(str(level))

    def ci(self, level: int) -> str:
        """``95% CI`` / ``IC à 95 %``."""
        return self("common.ci", level=self.level(level))

    def money(self, x: float, currency: str | None) -> str:
        """An amount (``USD 2,500.00`` / ``2 500,00 $US``; ``unbounded`` when infinite)."""
        if not math.isfinite(x):
            return self("common.unbounded")
        if currency is None:
            return self.number(x, 2)
        if self.french:
            return self.number(x, 2) + NBSP + self.currency(currency)
        return f"{currency} {self.number(x, 2)}"

    def currency(self, code: str | None) -> str:
        """A currency code as the language writes it (``EUR`` -> ``€`` in French)."""
        if code is None:
            return ""
        return _CURRENCY_FR.get(code, code) if self.french else code

    def date(self, value: object) -> str:
        """An ISO date (``2026-11-29``) as ``29 November 2026`` / ``29 novembre 2026``.

        Text that is not a date is returned as it is (an election id, ``None`` as "").
        """
        if value is None:
            return ""
        text = str(value)
        try:
            d = dt.date.fromisoformat(text[:10])
        except ValueError:
            return text
        months = _MONTHS_FR if self.french else _MONTHS_EN
        day = "1er" if self.french and d.day == 1 else str(d.day)
        out = f"{day} {months[d.month - 1]} {d.year}"
        if len(text) > 10 and text[10] in "T ":
            out += (" à " if self.french else " at ") + text[11:16] + " UTC"
        return out

    def items(self, words: list[str] | tuple[str, ...]) -> str:
        """``a, b and c`` / ``a, b et c``."""
        words = [w for w in words if w]
        if len(words) <= 1:
            return "".join(words)
        return ", ".join(words[:-1]) + f" {self('common.and')} " + words[-1]

    def cell(self, value: object, fmt: str) -> str:
        """One table cell: ``None``/NaN as an en dash, suppressed cells (``"<k"``) as they are."""
        if value is None:
            return "–"
        if isinstance(value, str):
            return value
        if isinstance(value, float) and not math.isfinite(value):
            return "∞" if value > 0 and math.isinf(value) else "–"
        v = float(value)  # type: ignore[arg-type]
        if fmt == "int":
            return self.number(float(int(v)), 0)
        if fmt in ("est", "se"):
            return self.fixed(v, 4)
        if fmt == "p":
            return self.p(v)
        if fmt == "pct":
            return self.pct(v)
        if fmt == "money":
            return self.number(v, 2)
        if fmt == "df":
            return self.number(v, 0) if v.is_integer() else self.number(v, 1)
        if fmt == "num":
            return self.number(v, 3)
        return str(value)


#: Notes written by lower layers (English) -> the catalogue message that says them.
NOTE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"clusters of (?P<clusters>.+) span several (?P<by>.+) subgroups: the Wald test uses "
            r"one interacted regression with cluster-robust covariance(?P<covs> \(covariates "
            r"not included\))?"
        ),
        "note.clusters_span",
    ),
    (
        re.compile(r"randomisation test not computed: some block has no units of a subgroup.*"),
        "note.ri_subgroup",
    ),
    (
        re.compile(r"(?P<n>[\d,]+) rows with no arm \(excluded units\) are not compared"),
        "note.no_arm",
    ),
    (
        re.compile(r"(?P<n>\d+) analysed voters live in households split across precincts"),
        "note.split_households",
    ),
    (
        re.compile(r"past election (?P<election>\S+) \(covariates\)"),
        "reason.past_election",
    ),
    # fieldexp.analysis.precinct (polling-station table) notes
    (
        re.compile(
            r"(?P<n>\d+) polling station\(s\) are not in the door log: 0 doors, 0 "
            r"conversations(?P<arms>.*)"
        ),
        "note.door_log_missing",
    ),
    (
        re.compile(r"(?P<n>\d+) polling station\(s\) with 0 registered: turnout missing"),
        "note.zero_registered",
    ),
    (
        re.compile(r"(?P<n>\d+) polling station\(s\) in the results are not in the assignment"),
        "note.not_in_assignment",
    ),
    (
        re.compile(r"(?P<n>\d+) polling station\(s\) log more (?P<dose>.+) than registered voters"),
        "note.more_than_registered",
    ),
    # fieldexp.diffindiff.voter_panel report lines
    (
        re.compile(
            r"(?P<units>[\d,]+) units x (?P<n>\d+) elections = (?P<rows>[\d,]+) rows; "
            r"(?P<treated>[\d,]+) units canvassed \(attempted\) within the window"
        ),
        "note.panel_units",
    ),
    (
        re.compile(r"contact log: (?P<rows>[\d,]+) rows, (?P<used>[\d,]+) attempts used"),
        "note.panel_contacts",
    ),
    (re.compile(r"(?P<n>[\d,]+) contact rows set aside: (?P<why>.+)"), "note.panel_aside"),
    (
        re.compile(
            r"(?P<n>[\d,]+) voter-election rows absent from the history filled as not voted"
        ),
        "note.panel_filled",
    ),
    (
        re.compile(
            r"(?P<n>[\d,]+) voter-election rows before the voter's registration left missing "
            r"\(not eligible\)"
        ),
        "note.panel_before_registration",
    ),
    # fieldexp/targeting/pipeline.py (the "Where to knock next" section)
    (
        re.compile(r"(?P<n>[\d,]+) voter\(s\) with a missing value were not scored\."),
        "note.tg_missing",
    ),
    (re.compile(r"No precinct results: precincts are not ranked.*"), "note.tg_no_results"),
    (re.compile(r"No supporters bloc: precincts are not ranked.*"), "note.tg_no_supporters"),
    (
        re.compile(r"No contact column: the turnout effect is per door assigned.*"),
        "note.tg_no_contact",
    ),
    (
        re.compile(r"Every precinct gets the same turnout effect and contact rate.*"),
        "note.tg_same_effect",
    ),
    (re.compile(r"No budget: no plan.*"), "note.tg_no_budget"),
    (
        re.compile(r"50\+1 score: the experiment's precincts are not all in.*"),
        "note.tg_fiftyone_history",
    ),
    (
        re.compile(r"The covariates do not vary: the uplift ranking is a constant\."),
        "note.tg_constant",
    ),
)

#: The default language (English).
ENGLISH = Language("en")


def get_language(code: str | None) -> Language:
    """The :class:`Language` of ``code`` (``None`` -> English)."""
    code = code or "en"
    if code not in LANGUAGES:
        raise SpecificationError(
            f"[report] language: must be one of {', '.join(map(repr, LANGUAGES))}; got {code!r}"
        )
    return Language(code)


# --------------------------------------------------------------------------------------
# The catalogue: key -> (English, French). Placeholders are filled with formatted text.
# --------------------------------------------------------------------------------------
CATALOGUE: dict[str, tuple[str, str]] = {}


def _load(text: str) -> None:
    """Read the catalogue text: ``key | English`` then ``    | French`` (one line each)."""
    key = ""
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        left, _, message = raw.partition("|")
        if left.strip():
            key = left.strip()
            if key in CATALOGUE:
                raise KeyError(f"duplicate message key {key!r}")
            CATALOGUE[key] = (message.strip(), "")
        else:
            CATALOGUE[key] = (CATALOGUE[key][0], message.strip())


_load(resources.files("fieldexp.report").joinpath("templates/catalogue.txt").read_text("utf-8"))
