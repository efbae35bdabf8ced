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
        return ", ".join(words[:-1]) + self("common.and") + words[-1]

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


_load(
    """
common.and | and
           | et
common.ci | {level} CI
          | IC à {level}
common.ci_points | {low} to {high} points
                 | {low} à {high} points
common.unbounded | unbounded
                 | non borné
headline.title | Headline
               | En bref
headline.no_estimate | no estimate for the headline outcome
                     | aucune estimation pour l'indicateur principal
headline.itt_voters | {outcome}: among the {n} voters assigned to canvassing{which} (against {held} held out), the effect of being assigned was {pp} percentage points ({ci} {interval}; {how}).
                    | {outcome} : parmi les {n} électeurs assignés au porte-à-porte{which} (contre {held} non visités), l'effet de l'assignation est de {pp} points de pourcentage ({ci} : {interval} ; {how}).
headline.which_arm | (arm {arm})
                   | (groupe {arm})
headline.itt_stations | {outcome}: among the {n} polling stations assigned to canvassing ({registered} registered voters; {held} stations held out), the effect of assignment was {pp} percentage points {of} per station ({ci} {interval}; {how}).
                      | {outcome} : sur les {n} bureaux de vote assignés au porte-à-porte ({registered} inscrits ; {held} bureaux témoins), l'effet de l'assignation est de {pp} points de pourcentage {of} par bureau ({ci} : {interval} ; {how}).
headline.of_registered | of registered voters
                       | des inscrits
headline.of_expressed | of votes cast
                      | des suffrages exprimés
headline.extra_voters | Extra voters in the canvassed polling stations (effect x {registered} registered voters): about {v} ({ci} {low} to {high}).
                      | Votants supplémentaires dans les bureaux visités (effet × {registered} inscrits) : environ {v} ({ci} : {low} à {high}).
headline.cost_stations | Field cost {total}: {cpv} per extra voter ({ci} {low} to {high}).
                       | Coût du terrain {total} : {cpv} par votant supplémentaire ({ci} : {low} à {high}).
headline.no_upper | no upper bound
                  | pas de borne supérieure
headline.cace | Among the {contacts} voters actually reached at the door, the effect was {pp} percentage points per contacted voter ({ci} {interval}; 2sls).
              | Parmi les {contacts} électeurs effectivement rencontrés à leur porte, l'effet est de {pp} points de pourcentage par personne contactée ({ci} : {interval} ; 2sls).
headline.withheld | Net votes and cost per net vote are withheld: they would multiply this unreliable estimate.
                  | Les voix nettes et le coût par voix nette ne sont pas donnés : ils multiplieraient cette estimation peu fiable.
headline.uninformative | {caution}: read this number as uninformative.
                       | {caution} : ce chiffre n'apporte aucune information.
headline.net_votes | Net votes gained (effect per contacted voter x {contacts} contacts): about {v} ({ci} {low} to {high}).
                   | Voix nettes gagnées (effet par personne contactée × {contacts} contacts) : environ {v} ({ci} : {low} à {high}).
headline.cost_voters | Field cost {total} ({attempts} door knocks, {contacts} conversations, {fixed} fixed): {cpv} per net vote ({ci} {low} to {high}).
                     | Coût du terrain {total} ({attempts} portes frappées, {contacts} conversations, {fixed} de coûts fixes) : {cpv} par voix nette ({ci} : {low} à {high}).
headline.no_upper_no_effect | no upper bound, because the interval includes no effect at all
                            | pas de borne supérieure, car l'intervalle inclut l'absence totale d'effet
headline.cost_no_net | Field cost {total}: no cost per net vote, because the estimated number of net votes is not positive.
                     | Coût du terrain {total} : pas de coût par voix nette, car le nombre estimé de voix nettes n'est pas positif.
headline.strong | The evidence is strong: {words}, below {alpha}. Canvassing very likely changed {outcome}.
                | Le résultat est solide : {words}, sous le seuil de {alpha}. Le porte-à-porte a très probablement eu un effet sur cet indicateur ({outcome}).
headline.caution_interval | Caution: the {level} interval alone excludes zero, but {words} is not below {alpha}: these data cannot rule out that canvassing had no effect.
                          | Prudence : l'intervalle à {level} exclut zéro à lui seul, mais {words} n'est pas sous le seuil de {alpha} : ces données ne permettent pas d'exclure que le porte-à-porte n'ait eu aucun effet.
headline.caution_zero | Caution: the confidence interval includes zero and {words} is not below {alpha}: these data cannot rule out that canvassing had no effect.
                      | Prudence : l'intervalle de confiance inclut zéro et {words} n'est pas sous le seuil de {alpha} : ces données ne permettent pas d'exclure que le porte-à-porte n'ait eu aucun effet.
headline.p | p = {p}
           | p = {p}
headline.p_one_hypothesis | p = {p} (one hypothesis: nothing to adjust)
                          | p = {p} (une seule hypothèse : rien à ajuster)
headline.p_adjusted | p = {p} (adjusted ({what}) for {n} hypotheses)
                    | p = {p} (ajustée ({what}) pour {n} hypothèses)
headline.net_label | net votes gained
                   | voix nettes gagnées
headline.net_label_stations | extra voters
                            | votants supplémentaires
figure.per_station | per assigned polling station
                   | par bureau de vote assigné
figure.per_assigned | per assigned voter
                    | par électeur assigné
figure.per_contacted | per contacted voter
                     | par personne contactée
figure.arm | , arm {arm}
           | , groupe {arm}
figure.unreliable | (unreliable)
                  | (peu fiable)
figure.estimated_effects | Estimated effects
                         | Effets estimés
figure.effects_title | {what}: estimates with {level} confidence intervals (percentage points)
                     | {what} : estimations et intervalles de confiance à {level} (points de pourcentage)
figure.effect_axis | effect (percentage points)
                   | effet (points de pourcentage)
figure.effect_axis_stations | effect per polling station (percentage points)
                            | effet par bureau de vote (points de pourcentage)
figure.effects_alt | Point estimates and confidence intervals of each effect
                   | Estimations ponctuelles et intervalles de confiance de chaque effet
plan.adjust.holm | Holm (family-wise error rate)
                 | Holm (taux d'erreur par famille)
plan.adjust.bh | Benjamini-Hochberg (false discovery rate)
               | Benjamini-Hochberg (taux de fausses découvertes)
plan.adjust.westfall-young | Westfall-Young step-down on the randomisation-inference p-values (joint randomisation distribution)
                           | Westfall-Young pas à pas sur les p-valeurs de l'inférence par randomisation (distribution jointe des tirages)
plan.estimator_note | {estimand}: {estimator} ({reason}).
                    | {estimand} : {estimator} ({reason}).
plan.why.lin_auto | Lin (2013) regression with covariates centred and interacted with assignment: covariates are listed and [analysis] method = 'auto'
                  | régression de Lin (2013), covariables centrées et croisées avec l'assignation : des covariables sont listées et [analysis] method = 'auto'
plan.why.dim_auto | difference in means (block-weighted when blocked): no covariates and [analysis] method = 'auto'
                  | différence de moyennes (pondérée par bloc s'il y a des blocs) : pas de covariable et [analysis] method = 'auto'
plan.why.dim | difference in means: [analysis] method = 'dim'
             | différence de moyennes : [analysis] method = 'dim'
plan.why.ols | OLS with additive covariates: [analysis] method = 'ols'
             | moindres carrés ordinaires avec covariables additives : [analysis] method = 'ols'
plan.why.lin | Lin (2013) interacted covariate adjustment: [analysis] method = 'lin'
             | ajustement de Lin (2013), covariables croisées avec l'assignation : [analysis] method = 'lin'
plan.why.2sls | two-stage least squares, assignment instrumenting contact
              | doubles moindres carrés, l'assignation servant d'instrument au contact
plan.why.2sls_covariates | with the same covariates
                         | avec les mêmes covariables
plan.subset | {outcome}: among voters with {subset}.
            | {outcome} : parmi les électeurs tels que {subset}.
plan.caution | Unreliable: {reasons}
             | Peu fiable : {reasons}
plan.caution.weak | weak first stage (F = {f} < {limit})
                  | première étape faible (F = {f} < {limit})
plan.caution.wide | confidence interval wider than ±100 percentage points
                  | intervalle de confiance plus large que ±100 points de pourcentage
plan.caution.unbounded | unbounded confidence interval
                       | intervalle de confiance non borné
plan.contact_not_estimated | Contact rate, arm {arm}: not estimated: {error}
                           | Taux de contact, groupe {arm} : non estimé ({error})
plan.cace_not_estimated | {outcome}, CACE, arm {arm}: not estimated: {error}
                        | {outcome}, CACE, groupe {arm} : non estimé ({error})
plan.no_adjustment | No multiplicity adjustment was requested.
                   | Aucun ajustement pour tests multiples n'a été demandé.
plan.westfall_young_missing | Westfall-Young needs a randomisation-inference result for every hypothesis (outcome x arm); missing for {missing}: p-values are not adjusted.
                            | Westfall-Young demande un résultat d'inférence par randomisation pour chaque hypothèse (indicateur × groupe) ; il manque : {missing}. Les p-valeurs ne sont pas ajustées.
plan.outcome_arm | {outcome} arm {arm}
                 | {outcome} groupe {arm}
plan.adjusted_note | Adjusted p-values: {method}, across {n} {hypotheses} (one per outcome and arm: the ITT and the CACE of an outcome test the same null, so they share one adjusted p-value, that of the ITT).
                   | P-valeurs ajustées : {method}, sur {n} {hypotheses} (une par indicateur et par groupe : l'ITT et le CACE d'un indicateur testent la même hypothèse nulle et partagent donc une p-valeur ajustée, celle de l'ITT).
plan.hypothesis | hypothesis
                | hypothèse
plan.hypotheses | hypotheses
                | hypothèses
common.none | none
            | néant
effects.title | Effects
              | Effets
effects.table | Effects by outcome and arm
              | Effets par indicateur et par groupe
effects.estimator | Estimator, {note}
                  | Estimateur, {note}
effects.contact_table | Contact rate: effect of assignment on being contacted (first stage)
                      | Taux de contact : effet de l'assignation sur le fait d'être contacté (première étape)
effects.contact_note | Estimator: {method} (difference in contact rates between arms, block-weighted when blocked): the share of assigned voters the canvass reached, the denominator of the CACE.
                     | Estimateur : {method} (différence de taux de contact entre groupes, pondérée par bloc s'il y a des blocs) : la part des électeurs assignés que le porte-à-porte a atteints, le dénominateur du CACE.
effects.unit_stations | ITT: effect per polling station assigned to canvassing (stations weighted by their registered voters); turnout is voters (ballots cast) over registered voters.
                      | ITT : effet par bureau de vote assigné au porte-à-porte (bureaux pondérés par leurs inscrits) ; la participation est le nombre de votants rapporté aux inscrits.
effects.unit_shares | Vote shares are shares of the votes cast (valid votes, excluding blank and null ballots) in each station.
                    | Les parts de voix sont des parts des suffrages exprimés (hors bulletins blancs et nuls) de chaque bureau.
effects.unit_voters | ITT: effect per voter assigned to canvassing, whether or not anyone answered. CACE: effect per voter actually contacted (assignment as the instrument for contact).
                    | ITT : effet par électeur assigné au porte-à-porte, qu'il ait ouvert sa porte ou non. CACE : effet par électeur effectivement contacté (l'assignation servant d'instrument au contact).
effects.proportions | Estimates are proportions: {example} means {pp} percentage points.
                    | Les estimations sont des proportions : {example} signifie {pp} points de pourcentage.
effects.design | Blocks: {blocks}; clusters: {clusters}; covariates: {covariates}; standard errors: {se}.
               | Blocs : {blocks} ; grappes : {clusters} ; covariables : {covariates} ; erreurs types : {se}.
effects.unreliable | A CACE flagged 'Unreliable' has a weak first stage (F < 10: too few voters were contacted, or contact barely differs between arms) or an interval wider than ±100 points: it says nothing about the effect per contacted voter.
                   | Un CACE signalé « peu fiable » a une première étape faible (F < 10 : trop peu d'électeurs contactés, ou un contact qui diffère à peine entre groupes) ou un intervalle plus large que ±100 points : il ne dit rien de l'effet par personne contactée.
col.outcome | outcome
            | indicateur
col.arm | arm
        | groupe
col.estimand | estimand
             | estimande
col.estimator | estimator
              | estimateur
col.estimate | estimate
             | estimation
col.std_error | std. error
              | erreur type
col.ci_low | {ci} low
           | {ci}, borne basse
col.ci_high | {ci} high
            | {ci}, borne haute
col.p_value | p-value
            | p-valeur
col.adjusted_p | adjusted p
               | p ajustée
col.first_stage_f | first-stage F
                  | F de première étape
col.caution | caution
            | mise en garde
col.n_stations | stations
               | bureaux
col.clusters | clusters
             | grappes
flow.title | Sample flow
           | Des assignés aux urnes
flow.no_assignment | no assignment
                   | pas d'assignation
flow.control | control (held out)
             | témoin (non visité)
flow.canvass | canvass
             | porte-à-porte
flow.stations_table | Polling stations by arm: stations, registered voters, ballots cast
                    | Bureaux de vote par groupe : bureaux, inscrits, votants
flow.stations_note | The unit of assignment and analysis is the polling station; turnout is voters (ballots cast) over registered voters.
                   | L'unité d'assignation et d'analyse est le bureau de vote ; la participation est le nombre de votants rapporté aux inscrits.
flow.stations_text | Polling stations assigned to each arm, with their registered voters and ballots cast.
                   | Les bureaux de vote de chaque groupe, avec leurs inscrits et leurs votants.
flow.voters_table | Voters by arm: assigned, attempted, contacted, outcome observed
                  | Électeurs par groupe : assignés, porte frappée, contactés, résultat observé
flow.voters_note | Counts of voters. Counts between 1 and {k1} are shown as <{k}.
                 | Nombres d'électeurs. Les nombres entre 1 et {k1} sont affichés « <{k} ».
flow.voters_text | Every assigned voter is followed from assignment to the ballot box: how many doors were knocked, how many people answered, and for how many the outcome is known.
                 | Chaque électeur assigné est suivi de l'assignation jusqu'à l'urne : combien de portes ont été frappées, combien de personnes ont ouvert, et pour combien le résultat est connu.
col.registered | registered
               | inscrits
col.voters | voters
           | votants
col.expressed | votes cast
              | exprimés
col.turnout | turnout
            | participation
col.assigned | assigned
             | assignés
col.attempted | attempted
              | porte frappée
col.contacted | contacted
              | contactés
col.outcome_observed | outcome observed
                     | résultat observé
reconciliation.title | Data reconciliation
                     | Rapprochement des données
reconciliation.table | Rows read, used and set aside per input table
                     | Lignes lues, utilisées et mises de côté par fichier d'entrée
reconciliation.stations_note | Rows of the results file are one per polling station and candidate (or list).
                             | Le fichier de résultats compte une ligne par bureau de vote et par candidat (ou liste).
reconciliation.reasons_table | Why rows were used or set aside
                             | Pourquoi les lignes ont été utilisées ou mises de côté
reconciliation.unknown_code | no (default meaning)
                            | non (sens par défaut)
reconciliation.codes_table | Rows of each imported file by code (unknown codes included)
                           | Lignes de chaque fichier importé par code (codes inconnus compris)
reconciliation.election | Target election: {election}. Every row read is either used or set aside with a reason.
                        | Élection étudiée : {election}. Chaque ligne lue est soit utilisée, soit mise de côté avec un motif.
reconciliation.stations | The units are polling stations: each station's registered voters, ballots cast and votes come from the official results file.
                        | Les unités sont des bureaux de vote : les inscrits, votants et voix de chaque bureau viennent du fichier officiel des résultats.
reconciliation.window | Contacts counted from {start} to {end}.
                      | Contacts comptés du {start} au {end}.
reconciliation.log_start | the start of the log
                         | début du journal
reconciliation.election_day | election day
                            | jour du scrutin
reconciliation.import_aside | Set aside when reading {table} file {file}: {parts}.
                            | Mis de côté à la lecture du fichier {table} {file} : {parts}.
common.yes | yes
           | oui
status.used | used
            | utilisées
status.set aside | set aside
                 | mises de côté
col.table | table
          | table
col.rows_read | rows read
              | lignes lues
col.used | used
         | utilisées
col.set_aside | set aside
              | mises de côté
col.status | status
           | statut
col.reason | reason
           | motif
col.rows | rows
         | lignes
col.code_of | code of
            | code de
col.code | code
         | code
col.known | known
          | connu
ri.title | Randomisation inference
         | Inférence par randomisation
ri.needs_design | needs a [design]
                | demande une section [design]
ri.exact | exact
         | exact
ri.monte_carlo | Monte Carlo
               | Monte-Carlo
ri.table | Randomisation-inference p-values (sharp null of no effect)
         | P-valeurs de l'inférence par randomisation (hypothèse nulle stricte d'absence d'effet)
ri.note | Statistic: the design's difference in means (ITT; block-weighted when blocked) or the Wald ratio (CACE), unadjusted for covariates, so an estimate here can differ from the covariate-adjusted one of the effects table; the p-value tests the sharp null that canvassing changed nobody's outcome.
        | Statistique : la différence de moyennes du plan (ITT ; pondérée par bloc s'il y a des blocs) ou le ratio de Wald (CACE), sans ajustement sur les covariables : une estimation peut donc différer ici de celle, ajustée, du tableau des effets ; la p-valeur teste l'hypothèse nulle stricte selon laquelle le porte-à-porte n'a changé le résultat de personne.
ri.redrawn | The assignment was re-drawn {reps} times exactly as the design drew it (same blocks, whole clusters, same counts; seed {seed}). The p-value is the share of re-draws giving an effect at least as large as the one observed, if canvassing had changed nobody's behaviour.
           | L'assignation a été retirée au sort {reps} fois exactement comme le plan l'a tirée (mêmes blocs, grappes entières, mêmes effectifs ; graine {seed}). La p-valeur est la part des tirages qui donnent un effet au moins aussi grand que celui observé, si le porte-à-porte n'avait changé le comportement de personne.
ri.zero | A p-value of 0 means that none of the {reps} re-draws was as extreme as the observed effect: p < {bound}.
        | Une p-valeur de 0 signifie qu'aucun des {reps} tirages n'a été aussi extrême que l'effet observé : p < {bound}.
ri.stations | Polling stations: the statistic is the estimator of the effects table itself (weighted by registered voters, same blocks and covariates), so its estimate equals the ITT shown there.
            | Bureaux de vote : la statistique est l'estimateur même du tableau des effets (pondéré par les inscrits, mêmes blocs et covariables) ; son estimation est donc l'ITT qui y figure.
ri.skipped | Not tested here (without the design's unit column): {outcomes}.
           | Non testés ici (sans la colonne d'unité du plan) : {outcomes}.
col.mc_se | MC s.e.
          | e.t. MC
col.draws | draws
          | tirages
col.kind | kind
         | type
balance.title | Balance between arms
              | Équilibre entre les groupes
balance.col_std_diff | std. difference, arm {arm}
                     | écart standardisé, groupe {arm}
balance.col_diff | difference, arm {arm}
                 | différence, groupe {arm}
balance.col_mean | mean, arm {arm}
                 | moyenne, groupe {arm}
balance.col_p | p-value, arm {arm}
              | p-valeur, groupe {arm}
balance.col_covariate | covariate
                      | covariable
balance.text | If the randomisation worked, canvassed and held-out voters look alike before the campaign: means by arm, their difference, the standardised difference (in standard deviations; above {threshold} deserves a look) and a design-based p-value per covariate.
             | Si le tirage au sort a bien fonctionné, les électeurs visités et non visités se ressemblent avant la campagne : moyennes par groupe, leur différence, l'écart standardisé (en écarts-types ; au-delà de {threshold}, il mérite un examen) et une p-valeur fondée sur le plan pour chaque covariable.
balance.rerandomisations | {reps} re-randomisations
                         | {reps} nouveaux tirages
balance.omnibus | Omnibus test, arm {arm} vs {control}: F = {f} on {df1} and {df2} df, randomisation p = {p} ({how}).
                | Test global, groupe {arm} contre {control} : F = {f} à {df1} et {df2} degrés de liberté, p de randomisation = {p} ({how}).
balance.note | Differences in means between arms (no covariate adjustment: balance is checked on the covariates themselves); p-values from the design's variance.
             | Différences de moyennes entre groupes (sans ajustement : l'équilibre se vérifie sur les covariables elles-mêmes) ; p-valeurs tirées de la variance du plan.
balance.note_design | Differences in means between arms (no covariate adjustment: balance is checked on the covariates themselves); p-values from the design's variance and the randomisation test replaying the design.
                    | Différences de moyennes entre groupes (sans ajustement : l'équilibre se vérifie sur les covariables elles-mêmes) ; p-valeurs tirées de la variance du plan et du test de randomisation qui rejoue le plan.
provenance.title | Provenance
                 | Provenance
provenance.inputs | Input files
                  | Fichiers d'entrée
provenance.software | Software
                    | Logiciels
provenance.spec | Spec {file} (SHA-256 {sha}).
                | Spec {file} (SHA-256 {sha}).
provenance.seeds | Seeds: {seeds}.
                 | Graines : {seeds}.
provenance.generated | Generated on {when}.
                     | Produit le {when}.
col.file | file
         | fichier
col.bytes | bytes
          | octets
col.package | package
            | paquet
coverage.title | Field coverage
               | Couverture du terrain
coverage.canvasser_n | canvasser {n}
                     | militant {n}
coverage.pooled_row | {label} ({n} groups under {k})
                    | {label} ({n} groupes de moins de {k})
coverage.none_suppressed | No {what} under {k} households: nothing suppressed.
                         | Aucun de ces {what} ne compte moins de {k} foyers : rien n'est masqué.
coverage.suppressed | {n} of {total} {what} have fewer than {k} households: shown as <{k}, without shares, and pooled in the last row. A share resting on fewer than {k} households is shown as an upper bound (<{x}).
                    | {n} {what} sur {total} comptent moins de {k} foyers : affichés « <{k} », sans parts, et regroupés dans la dernière ligne. Une part qui repose sur moins de {k} foyers est donnée comme borne supérieure (<{x}).
coverage.pooled | {by}: pooled
                | {by} : regroupés
coverage.groups | {by} groups
                | groupes {by}
coverage.by_table | Treatment households attempted and contacted, by {by}
                  | Foyers du groupe visité : porte frappée et contact, par {by}
coverage.figure | Share of treatment households reached, by {by}
                | Part des foyers du groupe visité atteints, par {by}
coverage.axis | share of households (%)
              | part des foyers (%)
coverage.figure_alt | Bars of attempted and contacted shares by {by}
                    | Barres des parts de portes frappées et de contacts par {by}
coverage.text | Shares are among households assigned to canvassing, from the same contacts as the analysis (inside the campaign window, for units of the experiment).
              | Les parts portent sur les foyers assignés au porte-à-porte, à partir des mêmes contacts que l'analyse (pendant la campagne, pour les unités de l'expérience).
coverage.aside | Contact-log rows the reconciliation set aside (not counted here either): {reasons}.
               | Lignes du journal de contacts mises de côté par le rapprochement (non comptées ici non plus) : {reasons}.
coverage.canvassers_pooled | canvassers pooled
                           | militants regroupés
coverage.salted | Canvassers are shown under salted pseudonyms (the key stays with the campaign).
                | Les militants apparaissent sous des pseudonymes salés (la clé reste à la campagne).
coverage.numbered | Canvassers are numbered; set [privacy] salt for stable pseudonyms.
                  | Les militants sont numérotés ; renseigner [privacy] salt pour des pseudonymes stables.
coverage.not_counted | {n} of {total} contact-log rows are not counted here (set aside by the reconciliation, control units, or no canvasser recorded).
                     | {n} lignes du journal de contacts sur {total} ne sont pas comptées ici (mises de côté par le rapprochement, unités témoins ou militant non renseigné).
coverage.canvassers | canvassers
                    | militants
coverage.canvasser_table | Households knocked and share with a conversation, by canvasser
                         | Foyers visités et part avec une conversation, par militant
col.households | households
               | foyers
col.share_attempted | share attempted
                    | part porte frappée
col.share_contacted | share contacted
                    | part contactée
col.canvasser | canvasser
              | militant
col.households_knocked | households knocked
                       | foyers visités
heterogeneity.title_propensity | Effects by vote propensity
                               | Effets selon la propension à voter
heterogeneity.title | Effects by {label}
                    | Effets selon : {label}
heterogeneity.missing_column | column {column} is not in the analysis table
                             | la colonne {column} n'est pas dans la table d'analyse
heterogeneity.text | Effects estimated separately within each {label} group, with a test that they are all equal. Groups with fewer than {k} voters are not shown.
                   | Effets estimés séparément dans chaque groupe ({label}), avec un test de leur égalité. Les groupes de moins de {k} électeurs ne sont pas affichés.
heterogeneity.estimators | Estimators: ITT by difference in means (block-weighted when blocked), CACE by 2SLS, both without covariates: vote-propensity bands are built from the past-vote covariates, which are then constant (collinear) inside a band.
                         | Estimateurs : ITT par différence de moyennes (pondérée par bloc s'il y a des blocs), CACE par doubles moindres carrés, tous deux sans covariables : les tranches de propension à voter sont construites à partir des votes passés, qui sont alors constants (colinéaires) dans une tranche.
heterogeneity.multi_arm | With more than one canvass arm, each arm is compared with the control separately and the randomisation test of equal effects is not computed (it replays two-arm designs only); the Wald test is reported.
                        | Avec plusieurs groupes visités, chaque groupe est comparé séparément au groupe témoin et le test de randomisation de l'égalité des effets n'est pas calculé (il ne rejoue que les plans à deux groupes) ; le test de Wald est donné.
heterogeneity.not_estimated | {outcome}, {est}: not estimated: {error}
                            | {outcome}, {est} : non estimé ({error})
heterogeneity.table | {outcome}: {est} by {label}
                    | {outcome} : {est} selon {label}
heterogeneity.note | Estimator: {estimator} within each group.
                   | Estimateur : {estimator} dans chaque groupe.
heterogeneity.hidden | {n} group(s) under {k} voters suppressed.
                     | {n} groupe(s) de moins de {k} électeurs masqué(s).
heterogeneity.wald | {outcome}, {est}{which}: test that the effect is the same in every group: Wald chi2({df}) = {stat}, p = {p}.
                   | {outcome}, {est}{which} : test d'un effet identique dans tous les groupes : Wald chi2({df}) = {stat}, p = {p}.
heterogeneity.wald_ri | {outcome}, {est}{which}: test that the effect is the same in every group: Wald chi2({df}) = {stat}, p = {p}; randomisation test p = {ri_p} ({how}).
                      | {outcome}, {est}{which} : test d'un effet identique dans tous les groupes : Wald chi2({df}) = {stat}, p = {p} ; test de randomisation p = {ri_p} ({how}).
heterogeneity.figure | {outcome}: {est} by {label} ({ci})
                     | {outcome} : {est} selon {label} ({ci})
heterogeneity.figure_alt | Effect by {label}
                         | Effet selon {label}
col.group | group
          | groupe
figure.event_time | elections relative to the canvassed election (0 = canvassed election)
                  | élections par rapport à l'élection du porte-à-porte (0 = élection du porte-à-porte)
figure.event_axis | difference (percentage points)
                  | différence (points de pourcentage)
report.what_canvass_did | What the canvass did
                        | Ce qu'a produit le porte-à-porte
report.caution | Caution:
               | Prudence :
report.caution_withheld | {caution}. Net votes and cost per net vote are withheld.
                        | {caution}. Les voix nettes et le coût par voix nette ne sont pas donnés.
report.pts | pts
           | pts
report.per_voter_card | per assigned voter
                      | par électeur assigné
report.per_station_card | per assigned polling station (share of registered voters)
                        | par bureau de vote assigné (en part des inscrits)
report.per_contacted_card | per contacted voter
                          | par personne contactée
report.adjusted | {method}-adjusted
                | ajustée ({method})
report.range | {low} to {high}
             | {low} à {high}
report.withheld | withheld
                | non donné
report.withheld_card | {what} and cost per net vote
                     | {what} et coût par voix nette
report.per_extra_voter_card | {currency} per extra voter
                            | {currency} par votant supplémentaire
report.per_net_vote_card | {currency} per net vote
                         | {currency} par voix nette
report.contents | Contents
                | Sommaire
report.not_included_short | not included
                          | non inclus
report.not_included | Not included: {reason}.
                    | Non inclus : {reason}.
report.not_included_line | not included
                         | non inclus
report.analysis_spec | Analysis spec
                     | Spec de l'analyse
report.footer_html | Made with fieldexp {version}. Aggregates only: no names, addresses or voter ids; counts below {k} are suppressed.
                   | Produit avec fieldexp {version}. Agrégats uniquement : ni noms, ni adresses, ni identifiants d'électeurs ; les effectifs inférieurs à {k} sont masqués.
report.footer_md | Made with fieldexp {version}. Aggregates only; counts below {k} are suppressed.
                 | Produit avec fieldexp {version}. Agrégats uniquement ; les effectifs inférieurs à {k} sont masqués.
report.figures_in_html | Figures: see report.html.
                       | Figures : voir report.html.
note.clusters_span | clusters of {clusters} span several {by} subgroups: the Wald test uses one interacted regression with cluster-robust covariance
                   | les grappes {clusters} s'étendent sur plusieurs sous-groupes {by} : le test de Wald utilise une seule régression avec interactions et une covariance robuste aux grappes
note.ri_subgroup | randomisation test not computed: some block has no units of a subgroup in one arm (or one cluster only), so a subgroup's blocked estimate is undefined
                 | test de randomisation non calculé : un bloc n'a aucune unité d'un sous-groupe dans l'un des groupes (ou une seule grappe), l'estimation par bloc de ce sous-groupe n'est donc pas définie
note.no_arm | {n} rows with no arm (excluded units) are not compared
            | {n} lignes sans groupe (unités exclues) ne sont pas comparées
note.split_households | {n} analysed voters live in households split across precincts
                      | {n} électeurs analysés vivent dans des foyers répartis sur plusieurs bureaux
reason.used | used
            | utilisées
reason.used; household split across precincts | used; household split across precincts
                                              | utilisées ; foyer réparti sur plusieurs bureaux
reason.used; outcome (target election) | used; outcome (target election)
                                       | utilisées ; résultat (élection étudiée)
reason.used; past-vote covariate | used; past-vote covariate
                                 | utilisées ; covariable de vote passé
reason.used; contact logged for a held-out (control) unit | used; contact logged for a held-out (control) unit
                                                          | utilisées ; contact noté pour une unité témoin
reason.used; unit not in the voter file (outcome missing) | used; unit not in the voter file (outcome missing)
                                                          | utilisées ; unité absente du fichier électoral (résultat manquant)
reason.contact logged for a held-out (control) unit | contact logged for a held-out (control) unit
                                                    | contact noté pour une unité témoin (non visitée)
reason.duplicate voter id (same household; first row kept) | duplicate voter id (same household; first row kept)
                                                           | identifiant d'électeur en double (même foyer ; première ligne gardée)
reason.excluded by the design | excluded by the design
                              | exclu par le plan
reason.not in the assignment (outside the experiment) | not in the assignment (outside the experiment)
                                                      | absent de l'assignation (hors expérience)
reason.duplicate unit row (same arm; first row kept) | duplicate unit row (same arm; first row kept)
                                                     | unité en double (même groupe ; première ligne gardée)
reason.duplicate unit row | duplicate unit row
                          | unité en double
reason.duplicate contact row | duplicate contact row
                             | contact en double
reason.voter id not in the voter file | voter id not in the voter file
                                      | identifiant absent du fichier électoral
reason.household id not in the voter file | household id not in the voter file
                                          | foyer absent du fichier électoral
reason.voter not in the experiment (not assigned) | voter not in the experiment (not assigned)
                                                  | électeur hors expérience (non assigné)
reason.household not in the experiment (not assigned) | household not in the experiment (not assigned)
                                                      | foyer hors expérience (non assigné)
reason.voter excluded by the design | voter excluded by the design
                                    | électeur exclu par le plan
reason.election after the target election | election after the target election
                                          | élection postérieure à l'élection étudiée
reason.earlier election not used as a covariate, or another election on the target day | earlier election not used as a covariate, or another election on the target day
                                                                                       | élection antérieure non utilisée comme covariable, ou autre élection le même jour
reason.duplicate voter-election row (a counted ballot kept) | duplicate voter-election row (a counted ballot kept)
                                                            | ligne électeur-élection en double (un vote compté gardé)
reason.missing unit id | missing unit id
                       | identifiant d'unité manquant
reason.before the campaign window | before the campaign window
                                  | avant la période de campagne
reason.after the campaign window | after the campaign window
                                 | après la période de campagne
reason.after election day | after election day
                          | après le jour du scrutin
reason.no timestamp (cannot be placed in the campaign window) | no timestamp (cannot be placed in the campaign window)
                                                              | sans date (impossible à situer dans la période de campagne)
reason.other election | other election
                      | autre élection
reason.polling station not in the results | polling station not in the results
                                          | bureau de vote absent des résultats
band.never | never
           | jamais
band.rare | rare
          | rarement
band.intermittent | intermittent
                  | intermittent
band.regular | regular
             | régulier
headline.how | {estimator}: {reason}
             | {estimator} : {reason}
report.ci_card | {ci} {interval}
               | {ci} : {interval}
did.title | Difference-in-differences and event study
          | Doubles différences et étude d'événement
did.why.twfe | dynamic two-way fixed effects (voter and election); unbiased when canvassing starts at one election for everyone exposed, as in a single campaign
             | effets fixes doubles dynamiques (unité et élection) ; sans biais quand le porte-à-porte commence à la même élection pour tous les exposés, comme dans une seule campagne
did.why.sun_abraham | Sun & Abraham (2021) interacted event study: robust to effects that differ between cohorts exposed at different elections
                    | étude d'événement avec interactions de Sun et Abraham (2021) : robuste à des effets qui diffèrent entre cohortes exposées à des élections différentes
did.why.cs | Callaway & Sant'Anna (2021) group-time effects: robust to exposure starting at different elections and to effects that change over time
           | effets par groupe et période de Callaway et Sant'Anna (2021) : robustes à une exposition qui commence à des élections différentes et à des effets qui changent dans le temps
did.needs_history | needs vote history and voter-level data
                  | demande l'historique de vote et des données par électeur
did.election_missing | election {election} is not in the vote history
                     | l'élection {election} n'est pas dans l'historique de vote
did.nobody_exposed | nobody was exposed ([did] exposure = {exposure} is 0 for every voter): a difference-in-differences compares exposed and other voters
                   | personne n'a été exposé ([did] exposure = {exposure} vaut 0 pour chaque électeur) : des doubles différences comparent les électeurs exposés aux autres
did.voters_intro | Voters whose door was {exposure} are compared with all other voters over {n} elections ({elections})
                 | Les électeurs exposés ({exposure}) sont comparés à tous les autres électeurs sur {n} élections ({elections})
did.voters_exposure | Exposure is on {exposure}, not randomised: who opens the door is self-selected.
                    | L'exposition ({exposure}) n'est pas tirée au sort : qui ouvre sa porte se sélectionne lui-même.
did.exposure.attempted | attempted
                       | porte frappée
did.exposure.contacted | contacted
                       | contact établi
did.turnout | turnout
            | participation
did.cs_method | Callaway & Sant'Anna group-time effects aggregated by event time ({comparison} comparison units; simultaneous bands from {reps} multiplier-bootstrap draws, seed {seed}), valid when canvassing starts at different elections
              | effets par groupe et période de Callaway et Sant'Anna agrégés par temps d'événement (unités de comparaison : {comparison} ; bandes simultanées tirées de {reps} tirages de bootstrap multiplicateur, graine {seed}), valables quand le porte-à-porte commence à des élections différentes
did.cs_method_weighted | Callaway & Sant'Anna group-time effects aggregated by event time ({comparison} comparison units; simultaneous bands from {reps} multiplier-bootstrap draws, seed {seed}; weighted by the registered voters of each station's first election), valid when canvassing starts at different elections
                       | effets par groupe et période de Callaway et Sant'Anna agrégés par temps d'événement (unités de comparaison : {comparison} ; bandes simultanées tirées de {reps} tirages de bootstrap multiplicateur, graine {seed} ; pondérés par les inscrits de la première élection de chaque bureau), valables quand le porte-à-porte commence à des élections différentes
did.comparison.never_treated | never treated
                             | jamais traitées
did.comparison.not_yet_treated | not yet treated
                               | pas encore traitées
did.fe_method | {unit} and election fixed effects ({estimator})
              | effets fixes {unit} et élection ({estimator})
did.unit.voters | voter
                | électeur
did.unit.stations | station
                  | bureau
did.units.voters | voters
                 | électeurs
did.units.stations | stations
                   | bureaux
did.table | Event study: {outcome} gap between canvassed and other {units}, by election
          | Étude d'événement : écart de {outcome} entre {units} visités et autres {units}, par élection
did.table_note | Estimator: {estimator} ({why}). Event time 0 is {target}; {reference} is the reference election.
               | Estimateur : {estimator} ({why}). Le temps 0 est {target} ; {reference} est l'élection de référence.
did.intro | {intro}: {method}. {exposure}
          | {intro} : {method}. {exposure}
did.static | Two-way fixed-effects difference-in-differences ({unit} and election effects{weighted}{clustered}): {est} points ({ci} {low} to {high}; p = {p}).
           | Doubles différences à effets fixes doubles (effets {unit} et élection{weighted}{clustered}) : {est} points ({ci} : {low} à {high} ; p = {p}).
did.weighted_by | weighted by {weights}
                | pondérées par {weights}
did.clustered_by | clustered by {clusters}
                 | grappes {clusters}
did.registered | registered voters (inscrits)
               | les inscrits
did.panel | Panel: {lines}.
          | Panel : {lines}.
did.pretest | Pre-trend test (all pre-election effects are zero): chi2({df}) = {stat}, p = {p}.
            | Test de tendances préalables (tous les effets avant l'élection sont nuls) : chi2({df}) = {stat}, p = {p}.
did.no_pretrend | No evidence that the groups were already diverging before the campaign.
                | Rien n'indique que les groupes divergeaient déjà avant la campagne.
did.pretrend | The groups were already diverging before the campaign: read the DiD with care.
             | Les groupes divergeaient déjà avant la campagne : lire les doubles différences avec prudence.
did.figure | Event study (percentage points, with confidence intervals)
           | Étude d'événement (points de pourcentage, avec intervalles de confiance)
did.figure_alt | Event-study coefficients by election relative to the canvassed one
               | Coefficients de l'étude d'événement par élection, relativement à celle du porte-à-porte
did.needs_assignment | needs [data.precinct_assignment] or [did] rollout (who was canvassed)
                     | demande [data.precinct_assignment] ou [did] rollout (les bureaux visités)
did.no_station_canvassed | no station of the panel was canvassed within its elections
                         | aucun bureau du panel n'a été visité pendant ses élections
did.station_lines | {stations} stations x {n} elections = {rows} rows; registered and voters conserved per election ({read} registered read, {panel} in the panel, {aside} set aside)
                  | {stations} bureaux × {n} élections = {rows} lignes ; inscrits et votants conservés à chaque élection ({read} inscrits lus, {panel} dans le panel, {aside} mis de côté)
did.crosswalk_hint | a crosswalk ([did] crosswalk) links renumbered or merged stations
                   | une table de correspondance ([did] crosswalk) relie les bureaux renumérotés ou fusionnés
did.treated_from | stations of the treatment arm of the assignment are treated from {target} on; the assignment is randomised, the comparison over elections is not
                 | les bureaux du groupe visité sont traités à partir de {target} ; l'assignation est tirée au sort, la comparaison entre élections ne l'est pas
did.treated_rollout | stations are treated from their first canvassed election ([did] rollout)
                    | les bureaux sont traités à partir de leur première élection avec porte-à-porte ([did] rollout)
did.stations_intro | Polling stations (bureaux de vote) canvassed and not canvassed are compared over {n} elections ({elections}), from the official results files
                   | Les bureaux de vote visités et non visités sont comparés sur {n} élections ({elections}), à partir des fichiers officiels de résultats
did.exposure_how | Exposure: {how}.
                 | Exposition : {how}.
col.event_time | event time
               | temps d'événement
col.band_low | band low
             | bande, borne basse
col.band_high | band high
              | bande, borne haute
note.panel_units | {units} units x {n} elections = {rows} rows; {treated} units canvassed (attempted) within the window
                 | {units} unités × {n} élections = {rows} lignes ; {treated} unités visitées (porte frappée) pendant la campagne
note.panel_contacts | contact log: {rows} rows, {used} attempts used
                    | journal de contacts : {rows} lignes, {used} tentatives utilisées
note.panel_aside | {n} contact rows set aside: {why}
                 | {n} lignes de contact mises de côté : {why}
note.panel_filled | {n} voter-election rows absent from the history filled as not voted
                  | {n} lignes électeur-élection absentes de l'historique comptées comme abstention
note.panel_before_registration | {n} voter-election rows before the voter's registration left missing (not eligible)
                               | {n} lignes électeur-élection antérieures à l'inscription laissées manquantes (non inscrit)
reason.not attempts (e.g. no door knocked) | not attempts (e.g. no door knocked)
                                           | pas des tentatives (aucune porte frappée)
reason.ids not in the panel | ids not in the panel
                            | identifiants absents du panel
reason.undated: cannot be placed between elections | undated: cannot be placed between elections
                                                   | sans date : impossibles à placer entre deux élections
reason.after the last election of the panel | after the last election of the panel
                                            | après la dernière élection du panel
figure.outcome_row | {outcome}: {row}
                   | {outcome} : {row}
plan.why.station_dim | difference in mean outcome between canvassed and held-out polling stations, weighted by registered voters (inscrits) (block-weighted when blocked)
                     | différence de moyennes entre bureaux de vote visités et bureaux témoins, pondérée par les inscrits (et par bloc s'il y a des blocs)
plan.why.station_ols | OLS on assignment and the station covariates {covariates}, weighted by registered voters (inscrits), block fixed effects when blocked
                     | moindres carrés ordinaires sur l'assignation et les covariables des bureaux ({covariates}), pondérés par les inscrits, avec effets fixes de bloc s'il y a des blocs
plan.why.station_ols_plain | OLS on assignment, weighted by registered voters (inscrits), block fixed effects when blocked
                           | moindres carrés ordinaires sur l'assignation, pondérés par les inscrits, avec effets fixes de bloc s'il y a des blocs
plan.why.station_lin | Lin (2013) regression with the station covariates centred and interacted, weighted by registered voters (inscrits)
                     | régression de Lin (2013), covariables des bureaux centrées et croisées avec l'assignation, pondérée par les inscrits
plan.why.station_cace | two-stage least squares per {dose} per registered voter (the dose, from the door log), assignment instrumenting it, weighted by registered voters
                      | doubles moindres carrés par {dose} par inscrit (la dose, tirée du relevé de porte-à-porte), l'assignation servant d'instrument, pondérés par les inscrits
plan.station_cace_needs_logs | {outcome}: a polling-station CACE needs the conversations per station ([stations] door_logs), which this spec does not provide; only the ITT is reported.
                             | {outcome} : un CACE par bureau de vote demande les conversations de chaque bureau ([stations] door_logs), que cette spec ne fournit pas ; seul l'ITT est donné.
plan.station_cace_not_estimated | {outcome}, CACE per conversation: not estimated: {error}
                                | {outcome}, CACE par conversation : non estimé ({error})
dose.conversations | conversation
                   | conversation
dose.doors_opened | door opened
                  | porte ouverte
dose.doors_knocked | door knocked
                   | porte frappée
effects.unit_station_cace | CACE: effect per {dose} per registered voter (the dose, from the door log), assignment as the instrument for the dose.
                          | CACE : effet par {dose} par inscrit (la dose, tirée du relevé de porte-à-porte), l'assignation servant d'instrument à la dose.
effects.outcome_covariates | {outcome}: {covariates}
                           | {outcome} : {covariates}
ri.note_stations | Statistic: the estimator of the effects table (polling stations: weighted by registered voters, same blocks and covariates); the p-value tests the sharp null that canvassing changed nobody's outcome.
                 | Statistique : l'estimateur du tableau des effets (bureaux de vote : pondéré par les inscrits, mêmes blocs et covariables) ; la p-valeur teste l'hypothèse nulle stricte selon laquelle le porte-à-porte n'a changé le résultat de personne.
ri.subset | Outcomes defined on a subset of units (e.g. registration among the unregistered): the whole assignment is re-drawn, every block and household included, and the statistic is recomputed on the subset for each re-draw.
          | Indicateurs définis sur un sous-ensemble d'unités (par exemple l'inscription parmi les non-inscrits) : toute l'assignation est retirée au sort, avec chaque bloc et chaque foyer, et la statistique est recalculée sur le sous-ensemble à chaque tirage.
note.door_log_missing | {n} polling station(s) are not in the door log: 0 doors, 0 conversations{arms}
                      | {n} bureau(x) de vote absent(s) du relevé de porte-à-porte : 0 porte, 0 conversation{arms}
note.zero_registered | {n} polling station(s) with 0 registered: turnout missing
                     | {n} bureau(x) de vote sans inscrit : participation manquante
note.not_in_assignment | {n} polling station(s) in the results are not in the assignment
                       | {n} bureau(x) de vote des résultats absent(s) de l'assignation
note.more_than_registered | {n} polling station(s) log more {dose} than registered voters
                          | {n} bureau(x) de vote déclarent plus de {dose} que d'inscrits
dose.doors opened | doors opened
                  | portes ouvertes
dose.doors knocked | doors knocked
                   | portes frappées
reason.past_election | past election {election} (covariates)
                     | élection passée {election} (covariables)
did.results_files | results files (SHA-256): {files}
                  | fichiers de résultats (SHA-256) : {files}
attrition.title | Attrition: outcomes missing for some units
                | Attrition : résultats manquants pour certaines unités
attrition.not_tested | {outcome}, arm {arm}: attrition not tested: {error}
                     | {outcome}, groupe {arm} : attrition non testée ({error})
attrition.lee_not_computed | {outcome}, arm {arm}: Lee bounds not computed: {error}
                           | {outcome}, groupe {arm} : bornes de Lee non calculées ({error})
attrition.hc2 | HC2 standard errors
              | erreurs types HC2
attrition.cr2 | CR2 clustered by {clusters}
              | CR2 par grappe {clusters}
attrition.block_fe | {blocks} fixed effects
                   | effets fixes {blocks}
attrition.table | Outcome observed, by arm
                | Résultat observé, par groupe
attrition.note | fieldexp.attrition: difference in observation rates (treated - control) from the regression of the observed indicator on assignment ({test}); it tests whether attrition differs by arm (why: a difference breaks the comparison of observed outcomes). RI p-value: the same difference with the design replayed ({reps} draws, seed {seed}) when {source}. Counts below {k} shown as <{k}.
               | fieldexp.attrition : différence des taux d'observation (visités - témoins) tirée de la régression de l'indicateur d'observation sur l'assignation ({test}) ; elle teste si l'attrition diffère entre groupes (pourquoi : une différence fausse la comparaison des résultats observés). P-valeur de randomisation : la même différence, le plan rejoué ({reps} tirages, graine {seed}) quand {source}. Effectifs inférieurs à {k} affichés « <{k} ».
attrition.configured | configured
                     | configuré
attrition.interval | Imbens-Manski {level} interval from {reps} bootstrap replications replaying the design (seed {seed}, {source})
                   | intervalle d'Imbens-Manski à {level} tiré de {reps} réplications bootstrap qui rejouent le plan (graine {seed}, {source})
attrition.no_interval | no interval: give [randomization_inference] seed (and reps) for the bootstrap
                      | pas d'intervalle : renseigner [randomization_inference] seed (et reps) pour le bootstrap
attrition.lee_table | Lee bounds where attrition differs by arm
                    | Bornes de Lee là où l'attrition diffère entre groupes
attrition.lee_note | fieldexp.lee_bounds: Lee (2009) trimming bounds on the effect among units observed whatever their arm (monotonicity assumed), trimmed within blocks; {ci}. Why: attrition differs by arm, so observed means are not comparable.
                   | fieldexp.lee_bounds : bornes de Lee (2009) par élagage, sur l'effet parmi les unités observées quel que soit leur groupe (monotonie supposée), élaguées dans chaque bloc ; {ci}. Pourquoi : l'attrition diffère entre groupes, les moyennes observées ne sont donc pas comparables.
attrition.differs | {n} outcome x arm comparison(s) have outcomes missing for some units; attrition differs by arm in {k}: read their effects through the Lee bounds.
                  | {n} comparaison(s) indicateur × groupe ont des résultats manquants pour certaines unités ; l'attrition diffère entre groupes dans {k} : lire leurs effets à travers les bornes de Lee.
attrition.same | {n} outcome x arm comparison(s) have outcomes missing for some units; observation rates do not differ significantly by arm (the effects compare like with like among the observed).
               | {n} comparaison(s) indicateur × groupe ont des résultats manquants pour certaines unités ; les taux d'observation ne diffèrent pas significativement entre groupes (les effets comparent des unités semblables parmi les observées).
col.control_units | control units
                  | unités témoins
col.control_observed | control observed
                     | témoins observés
col.treated_units | treated units
                  | unités visitées
col.treated_observed | treated observed
                     | visitées observées
col.difference | difference
               | différence
col.ri_p_value | RI p-value
               | p-valeur de randomisation
col.lower | lower
          | borne basse
col.upper | upper
          | borne haute
col.trimmed_share | trimmed share
                  | part élaguée
col.trimmed_arm | trimmed arm
                | groupe élagué
col.bootstrap_reps | bootstrap reps used
                   | réplications bootstrap utilisées
"""
)
