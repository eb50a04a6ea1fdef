"""Configuration of the synthetic region: every rate the generator uses, in one place.

All rates are documented in docs/synthetic-data.md. Defaults aim at plausibility for inner and
south London, not precision: they are approximate public figures (see ../shared/uk-facts.md and
the notes beside each field), and every one can be overridden for an experiment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date


@dataclass(frozen=True)
class BoroughSpec:
    """One council in the region (public facts: name, ONS GSS code, DfE LA number)."""

    code: str
    name: str
    gss_code: str
    la_number: int  # DfE local-authority number, the first 3 digits of a UPN
    population_weight: float  # relative size (Census 2021, thousands)
    districts: tuple[tuple[str, float], ...]  # postcode districts and their weights
    social_rent_share: float  # share of households renting from the council/housing assoc.
    areas: tuple[str, ...]  # place names used for synthetic ward names


DEFAULT_BOROUGHS: tuple[BoroughSpec, ...] = (
    BoroughSpec(
        "lambeth",
        "London Borough of Lambeth",
        "E09000022",
        208,
        317.0,
        (
            ("SE11", 1.0),
            ("SE27", 1.0),
            ("SW2", 1.2),
            ("SW4", 0.9),
            ("SW8", 1.0),
            ("SW9", 1.2),
            ("SE1", 0.3),
            ("SE24", 0.3),
            ("SW16", 0.6),
        ),
        0.31,
        (
            "Brixton",
            "Clapham",
            "Stockwell",
            "Vauxhall",
            "Kennington",
            "Streatham",
            "Herne Hill",
            "Tulse Hill",
            "West Norwood",
            "Oval",
            "Gipsy Hill",
            "Knight's Hill",
        ),
    ),
    BoroughSpec(
        "lewisham",
        "London Borough of Lewisham",
        "E09000023",
        209,
        300.0,
        (
            ("SE4", 1.0),
            ("SE6", 1.3),
            ("SE13", 1.2),
            ("SE14", 0.9),
            ("SE23", 1.0),
            ("SE8", 0.5),
            ("SE12", 0.5),
            ("SE26", 0.5),
        ),
        0.29,
        (
            "Catford",
            "Deptford",
            "Brockley",
            "Forest Hill",
            "Sydenham",
            "Lee Green",
            "Ladywell",
            "Hither Green",
            "Bellingham",
            "Downham",
            "New Cross",
            "Grove Park",
        ),
    ),
    BoroughSpec(
        "southwark",
        "London Borough of Southwark",
        "E09000028",
        210,
        307.0,
        (
            ("SE1", 1.2),
            ("SE5", 1.1),
            ("SE15", 1.3),
            ("SE16", 1.1),
            ("SE17", 0.8),
            ("SE21", 0.4),
            ("SE22", 0.8),
        ),
        0.42,
        (
            "Peckham",
            "Camberwell",
            "Bermondsey",
            "Rotherhithe",
            "Walworth",
            "Dulwich",
            "Nunhead",
            "Borough",
            "Elephant",
            "Peckham Rye",
            "Faraday",
            "Surrey Docks",
        ),
    ),
    BoroughSpec(
        "wandsworth",
        "London Borough of Wandsworth",
        "E09000032",
        212,
        327.0,
        (
            ("SW11", 1.3),
            ("SW12", 0.9),
            ("SW15", 1.1),
            ("SW17", 1.2),
            ("SW18", 1.2),
            ("SW19", 0.4),
        ),
        0.19,
        (
            "Battersea",
            "Balham",
            "Tooting",
            "Putney",
            "Roehampton",
            "Southfields",
            "Earlsfield",
            "Wandsworth Town",
            "Nine Elms",
            "Furzedown",
            "Shaftesbury",
            "Bedford",
        ),
    ),
)


@dataclass(frozen=True)
class FsmRule:
    """A date-effective version of the benefits-related free school meals rule (simplified).

    ``uc_income_threshold`` is the cap on annual net earned income for Universal Credit
    households; ``None`` means every UC household qualifies. Legacy qualifying benefits and
    asylum support qualify under every version.
    """

    version: str
    effective_from: date
    uc_income_threshold: float | None
    description: str


DEFAULT_FSM_RULES: tuple[FsmRule, ...] = (
    FsmRule(
        "fsm-2018",
        date(2018, 4, 1),
        7400.0,
        "Universal Credit with annual net earned income of no more than £7,400; legacy "
        "qualifying benefits; asylum support",
    ),
    FsmRule(
        "fsm-2026",
        date(2026, 9, 1),
        None,
        "All households on Universal Credit, whatever the income; legacy qualifying benefits; "
        "asylum support (announced June 2025, in force from September 2026)",
    ),
)


@dataclass(frozen=True)
class ErrorRates:
    """Record-level error rates, before the global ``error_rate`` scale and per-system scales.

    Each rate is the probability that one source entity (a person as held in one system of one
    organisation) shows the error in that field. Errors persist: the same system shows the same
    mistake in every export, as a real database does. Rates marked *conditional* apply only
    where the error is possible (e.g. a nickname needs a name that has one).
    """

    typo_given: float = 0.015  # one-character edit in the given name
    typo_family: float = 0.015  # one-character edit in the family name
    nickname: float = 0.08  # conditional: diminutive or spelling/transliteration variant
    family_variant: float = 0.15  # conditional: accents dropped, apostrophes/spaces changed
    dob_day_month_swap: float = 0.008  # conditional on day <= 12 and day != month
    dob_digit: float = 0.004  # a wrong day or year
    maiden_name: float = 0.12  # conditional: birth surname shown instead of married name
    hyphen_part: float = 0.35  # conditional: only one half of a hyphenated surname
    name_swap: float = 0.005  # given and family names swapped
    missing_dob: float = 0.01
    missing_middle: float = 0.4  # conditional: middle name dropped
    missing_postcode: float = 0.012
    missing_identifier: float = 0.05  # NHS number, NI number or UPN left blank
    identifier_typo: float = 0.004  # one digit mistyped or two digits transposed
    stale_address: float = 0.3  # conditional on a move: system not updated for a while
    stale_address_mean_days: float = 200.0  # mean delay before a stale address is updated
    postcode_typo: float = 0.01
    missing_uprn: float = 0.08  # where the system records UPRNs at all
    # Errors the default region never makes (0 = off); scenario profiles turn them on.
    other_address: float = 0.0  # held at another address (an old one, a relative's, a care home)
    other_address_cross_borough: float = 0.6  # share of those other addresses in another borough
    address_disorder: float = 0.0  # address parts shuffled between columns or one part dropped
    double_given: float = 0.0  # conditional: given and middle name written as one double name


# Per-system multipliers on the record-level error rates (data-entry quality differs).
DEFAULT_SYSTEM_ERROR_SCALE: dict[str, float] = {
    "school-census": 0.6,  # validated by the DfE collection
    "revenues": 1.2,
    "benefits": 0.8,
    "housing": 1.2,
    "adult-social-care": 1.0,
    "childrens-social-care": 1.0,
    "electoral": 0.7,
    "foodbank": 2.5,  # paper vouchers typed up by volunteers
}


@dataclass(frozen=True)
class SynthConfig:
    """Everything that shapes a synthetic region. ``residents`` is the starting population."""

    residents: int = 50_000
    seed: int = 1
    profile: str = "default"  # the scenario profile these rates came from (see profiles.py)
    months: int = 24
    start_month: str = "2025-04"  # first month of the timeline (YYYY-MM)
    error_rate: float = 1.0  # global multiplier on every record-level error rate (0 = clean)
    boroughs: tuple[BoroughSpec, ...] = DEFAULT_BOROUGHS
    errors: ErrorRates = field(default_factory=ErrorRates)
    system_error_scale: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SYSTEM_ERROR_SCALE)
    )

    # --- households and people ---
    # single, couple, couple with children, lone parent, sharers, multigenerational
    household_type_weights: tuple[float, ...] = (0.30, 0.21, 0.22, 0.09, 0.13, 0.05)
    children_count_weights: tuple[float, ...] = (0.45, 0.35, 0.14, 0.06)  # 1, 2, 3, 4
    twin_rate: float = 0.03  # probability a younger sibling is a twin of the previous child
    twin_same_initial_rate: float = 0.35  # twins given names with the same first letter
    junior_rate: float = 0.04  # sons in two-parent families named after their father
    same_sex_couple_rate: float = 0.05
    married_name_rate: float = 0.55  # partner takes the household surname
    hyphenated_name_rate: float = 0.08  # couple (and children) take a double-barrelled name
    mixed_origin_rate: float = 0.12  # partner's names drawn from another origin group
    middle_name_rate: float = 0.55
    student_rate: float = 0.35  # of adults aged 18-23 (council-tax disregard)

    # --- geography ---
    lsoa_size: int = 1500  # people per LSOA (ONS: 1,000-3,000, about 1,500)
    ward_size: int = 15000  # people per ward (London: 10,000-20,000)
    addresses_per_postcode: int = 15
    vacancy_rate: float = 0.08  # spare addresses, used by movers

    # --- schools ---
    residents_per_primary: int = 5000
    residents_per_secondary: int = 20000
    cross_borough_school_rate: float = 0.175  # pupils at a school outside the home borough
    independent_school_rate: float = 0.07  # pupils outside the state census
    stay_at_school_after_move: float = 0.8

    # --- timeline ---
    move_rate_owner: float = 0.05  # per year
    move_rate_private_rent: float = 0.22
    move_rate_social_rent: float = 0.04
    move_within_borough_share: float = 0.6
    income_change_rate: float = 0.02  # per household per month (job gained or lost)
    fertility_rate: float = 0.065  # births per year per woman aged 18-44 in a family household
    mortality_a: float = -10.3  # Gompertz: annual death probability exp(a + b * age)
    mortality_b: float = 0.095

    # --- income and benefits ---
    employment_rate: float = 0.74  # of working-age adults (not students)
    earnings_log_mean: float = 10.15  # log of median annual net earnings (~£25,600)
    earnings_log_sd: float = 0.65
    part_time_share: float = 0.25  # employed adults working part time (earnings x 0.4)
    uc_takeup: float = 0.88
    ctr_takeup: float = 0.85  # eligible households that claim council tax reduction
    legacy_share: float = 0.06  # of benefit households still on legacy benefits
    claim_reassessment_months: int = 3  # HB/CTR reassessed on DWP/UC notifications
    asylum_share: float = 0.004  # of households with children, on asylum support
    fsm_rules: tuple[FsmRule, ...] = DEFAULT_FSM_RULES
    fsm_underclaim_rate: float = 0.10  # eligible families who never register

    # --- the intervention (auto-enrolment for free school meals) ---
    intervention_borough: str | None = "lewisham"
    intervention_month: str = "2026-01"
    intervention_reaches_other_boroughs_schools: bool = False

    # --- other services ---
    spd_fraud_rate: float = 0.04  # multi-adult households wrongly claiming single person discount
    ct_arrears_rate: float = 0.2  # accounts in arrears in a given month (average)
    ct_arrears_mean_months: float = 5.0
    rent_arrears_rate: float = 0.4  # social tenancies in arrears in a given month (average)
    rent_arrears_mean_months: float = 12.0
    asc_rate_18_64: float = 0.008
    asc_rate_65_79: float = 0.05
    asc_rate_80_plus: float = 0.16
    cin_rate: float = 0.05  # children with a children-in-need episode in the window
    cp_share_of_cin: float = 0.15
    elector_eligible_rate: float = 0.86  # nationality qualifies for the local register
    elector_registered_rate: float = 0.87
    foodbank_referrals_low_income: float = 0.5  # expected referrals per low-income household
    foodbank_referrals_other: float = 0.01
    spend_transactions_per_100k: float = 420.0  # spend-over-£500 rows per month per 100k people

    def with_overrides(self, **changes: object) -> SynthConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def start_date(self) -> date:
        year, month = (int(part) for part in self.start_month.split("-"))
        return date(year, month, 1)

    def borough_codes(self) -> list[str]:
        return [b.code for b in self.boroughs]

    def validate(self) -> None:
        if self.residents < 200:
            raise ValueError("a synthetic region needs at least 200 residents")
        if not 1 <= self.months <= 120:
            raise ValueError("months must be between 1 and 120")
        if self.error_rate < 0:
            raise ValueError("error_rate must not be negative")
        if len(self.household_type_weights) != 6:
            raise ValueError("household_type_weights needs six weights")
        codes = self.borough_codes()
        if self.intervention_borough is not None and self.intervention_borough not in codes:
            raise ValueError(f"intervention borough {self.intervention_borough!r} is not a borough")
        self.start_date  # noqa: B018 - raises on a malformed start month
