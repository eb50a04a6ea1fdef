"""The synthetic address gazetteer: UPRNs, streets, postcodes, wards and LSOAs.

* Every address has a synthetic 12-digit UPRN starting with 9 and a street with an 8-digit USRN.
* Postcodes are in the borough's real postcode districts (uk-facts.md); districts that straddle
  borough boundaries (SE1, SW16, ...) appear in both boroughs, so the district never tells you
  the borough on its own. Inward codes are synthetic.
* Ward (E05…) and LSOA (E01…) codes are synthetic (they start E059… / E019…); an LSOA holds
  about ``lsoa_size`` people and a ward about ``ward_size``, so their number scales with the
  population.
* Tenure (owner, private rent, social rent) and council tax band belong to the address. Social
  housing is mostly in blocks of flats, whose share is set so the borough's social-rent share
  matches its configured figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .config import SynthConfig
from .util import affine_unique, group_rank, stream

OWNER, PRIVATE_RENT, SOCIAL_RENT = 0, 1, 2
TENURE_NAMES = ("owner occupied", "private rent", "social rent")
BANDS = "ABCDEFGH"
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in inward codes (no C I K M O V)

STREET_STEMS = [
    "Acre",
    "Albert",
    "Alexandra",
    "Angell",
    "Arlington",
    "Ashmore",
    "Barrington",
    "Beechwood",
    "Belgrave",
    "Birchwood",
    "Blenheim",
    "Bramble",
    "Brayards",
    "Brookside",
    "Burgess",
    "Canterbury",
    "Carlton",
    "Cavendish",
    "Chatham",
    "Chestnut",
    "Churchill",
    "Clarence",
    "Cobden",
    "Coldharbour",
    "Commercial",
    "Cranston",
    "Crescent",
    "Dalton",
    "Denmark",
    "Dorset",
    "Dunstans",
    "Eastlake",
    "Effra",
    "Elmwood",
    "Fairfield",
    "Ferndale",
    "Fleet",
    "Gloucester",
    "Grafton",
    "Granville",
    "Greenwood",
    "Grosvenor",
    "Hamilton",
    "Hanover",
    "Harper",
    "Hazel",
    "Heathfield",
    "Holly",
    "Ivydale",
    "Jasmine",
    "Kender",
    "Kingsway",
    "Lakeside",
    "Lancaster",
    "Larch",
    "Lavender",
    "Leander",
    "Lime",
    "Linden",
    "Lordship",
    "Lyndhurst",
    "Maple",
    "Marlborough",
    "Mayall",
    "Meadow",
    "Milton",
    "Montague",
    "Nelson",
    "Northcote",
    "Nursery",
    "Oakdale",
    "Orchard",
    "Oxford",
    "Palace",
    "Park",
    "Peckham",
    "Penrose",
    "Pleasant",
    "Portland",
    "Priory",
    "Queens",
    "Railton",
    "Raleigh",
    "Ravensbourne",
    "Rectory",
    "Regent",
    "Ridgeway",
    "Rosebery",
    "Rushcroft",
    "Salisbury",
    "Sandringham",
    "Saxon",
    "Shakespeare",
    "Somerleyton",
    "Southwell",
    "Stanley",
    "Station",
    "Sumner",
    "Sunnyhill",
    "Tanners",
    "Thornton",
    "Trinity",
    "Tyrwhitt",
    "Union",
    "Valley",
    "Vicarage",
    "Victoria",
    "Walworth",
    "Warwick",
    "Waterloo",
    "Wellington",
    "Westbury",
    "Whitehorse",
    "Willow",
    "Windsor",
    "Woodland",
    "Wyndham",
    "York",
]
STREET_SUFFIXES = (
    "Road",
    "Street",
    "Lane",
    "Grove",
    "Avenue",
    "Gardens",
    "Place",
    "Terrace",
    "Close",
    "Walk",
    "Rise",
    "Hill",
    "Way",
    "Square",
    "Crescent",
    "Mews",
)
BLOCK_SUFFIXES = ("House", "Court", "Point", "Tower", "Lodge", "Mansions")
WARD_SUFFIXES = (
    "",
    " North",
    " South",
    " East",
    " West",
    " Central",
    " Park",
    " Village",
    " Rise",
    " Vale",
    " Common",
    " Green",
    " Heights",
    " Wells",
    " Lane",
    " Gate",
)


@dataclass
class Gazetteer:
    """Columnar address table plus area look-ups (all indices are positions in these arrays)."""

    uprn: npt.NDArray[np.int64]
    usrn: npt.NDArray[np.int64]  # per address (its street's USRN)
    borough: npt.NDArray[np.int8]
    ward: npt.NDArray[np.int32]
    lsoa: npt.NDArray[np.int32]
    postcode: npt.NDArray[np.int32]  # index into postcodes
    tenure: npt.NDArray[np.int8]
    band: npt.NDArray[np.int8]
    block: npt.NDArray[np.bool_]
    sao: pa.Array  # "Flat 3" or null
    pao: pa.Array  # "12" or "Churchill House"
    line1: pa.Array  # "12 Acre Road" or "Flat 3, Churchill House"
    line2: pa.Array  # street for flats, else null
    street: pa.Array
    locality: pa.Array
    postcodes: pa.Array  # postcode strings
    ward_codes: list[str]
    ward_names: list[str]
    ward_borough: npt.NDArray[np.int8]
    lsoa_codes: list[str]
    lsoa_names: list[str]
    occupied: npt.NDArray[np.bool_]  # set by the population (address has a household at start)

    @property
    def size(self) -> int:
        return int(self.uprn.size)

    @cached_property
    def single_line(self) -> pa.Array:
        """``line1, line2, locality`` joined with commas (nulls skipped)."""
        return pc.binary_join_element_wise(
            self.line1, self.line2, self.locality, ", ", null_handling="skip"
        )

    def table(self, borough_names: list[str], borough_gss: list[str]) -> pa.Table:
        """The gazetteer export (AddressBase-like columns)."""
        cls = np.where(self.block, 0, np.where(self.tenure == OWNER, 1, 2))
        classes = pa.array(["RD06", "RD03", "RD04"])
        return pa.table(
            {
                "UPRN": pa.array(self.uprn),
                "USRN": pa.array(self.usrn),
                "SAO_TEXT": self.sao,
                "PAO_TEXT": self.pao,
                "STREET_DESCRIPTION": self.street,
                "LOCALITY": self.locality,
                "TOWN_NAME": pa.array(["LONDON"] * self.size),
                "POSTCODE": pc.take(self.postcodes, pa.array(self.postcode)),
                "LA_GSS_CODE": pc.take(pa.array(borough_gss), pa.array(self.borough)),
                "LA_NAME": pc.take(pa.array(borough_names), pa.array(self.borough)),
                "WARD_GSS_CODE": pc.take(pa.array(self.ward_codes), pa.array(self.ward)),
                "WARD_NAME": pc.take(pa.array(self.ward_names), pa.array(self.ward)),
                "LSOA_GSS_CODE": pc.take(pa.array(self.lsoa_codes), pa.array(self.lsoa)),
                "LSOA_NAME": pc.take(pa.array(self.lsoa_names), pa.array(self.lsoa)),
                "CLASSIFICATION_CODE": pc.take(classes, pa.array(cls)),
                "COUNCIL_TAX_BAND": pc.take(pa.array(list(BANDS)), pa.array(self.band)),
            }
        )


def _split_counts(total: int, parts: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """``parts`` positive counts summing to ``total`` with +/-40% variation."""
    parts = max(1, min(parts, total))
    weights = rng.uniform(0.6, 1.4, size=parts)
    counts = rng.multinomial(total - parts, weights / weights.sum()) + 1
    return counts.astype(np.int64)


def build_gazetteer(
    config: SynthConfig,
    households_per_borough: npt.NDArray[np.int64],
    people_per_borough: npt.NDArray[np.float64],
) -> Gazetteer:
    rng = stream(config.seed, "geography")
    boroughs = config.boroughs

    addr_borough: list[npt.NDArray[np.int64]] = []
    addr_lsoa: list[npt.NDArray[np.int64]] = []
    ward_codes: list[str] = []
    ward_names: list[str] = []
    ward_borough: list[int] = []
    ward_area: list[str] = []
    lsoa_codes: list[str] = []
    lsoa_names: list[str] = []
    lsoa_ward: list[int] = []
    lsoa_district: list[str] = []

    for b, spec in enumerate(boroughs):
        n_addr = int(np.ceil(households_per_borough[b] * (1 + config.vacancy_rate))) + 5
        pop = float(people_per_borough[b])
        n_wards = max(2, round(pop / config.ward_size))
        n_lsoa = max(n_wards, round(pop / config.lsoa_size))
        n_lsoa = min(n_lsoa, max(n_wards, n_addr // 10))
        districts = [d for d, _ in spec.districts]
        dw = np.array([w for _, w in spec.districts])
        # every district gets at least one ward when there are enough wards
        order = list(rng.permutation(len(districts)))
        ward_district = [districts[order[i]] for i in range(min(n_wards, len(districts)))]
        extra = n_wards - len(ward_district)
        if extra > 0:
            ward_district += [
                districts[i] for i in rng.choice(len(districts), extra, p=dw / dw.sum())
            ]
        first_ward = len(ward_codes)
        for w in range(n_wards):
            area = spec.areas[w % len(spec.areas)]
            suffix = WARD_SUFFIXES[(w // len(spec.areas)) % len(WARD_SUFFIXES)]
            if w // len(spec.areas) >= len(WARD_SUFFIXES):
                suffix += f" {w // (len(spec.areas) * len(WARD_SUFFIXES)) + 1}"
            ward_codes.append(f"E05{900001 + len(ward_codes):06d}")
            ward_names.append(area + suffix)
            ward_area.append(area)
            ward_borough.append(b)
        counts = _split_counts(n_addr, n_lsoa, rng)
        short = spec.name.replace("London Borough of ", "")
        for i in range(n_lsoa):
            ward_index = first_ward + (i * n_wards) // n_lsoa
            lsoa_codes.append(f"E01{900001 + len(lsoa_codes):06d}")
            lsoa_names.append(f"{short} {900 + i // 4:03d}{'ABCD'[i % 4]}")
            lsoa_ward.append(ward_index)
            lsoa_district.append(ward_district[ward_index - first_ward])
        addr_borough.append(np.full(n_addr, b, dtype=np.int64))
        addr_lsoa.append(np.repeat(np.arange(len(lsoa_codes) - n_lsoa, len(lsoa_codes)), counts))

    borough = np.concatenate(addr_borough).astype(np.int8)
    lsoa = np.concatenate(addr_lsoa).astype(np.int32)
    n = lsoa.size
    ward = np.array(lsoa_ward, dtype=np.int32)[lsoa]

    # postcodes: consecutive groups of ~addresses_per_postcode within each LSOA
    rank_in_lsoa = group_rank(lsoa.astype(np.int64))
    lsoa_count = np.bincount(lsoa, minlength=len(lsoa_codes))
    pc_per_lsoa = np.maximum(1, np.rint(lsoa_count / config.addresses_per_postcode)).astype(
        np.int64
    )
    pc_offset = np.concatenate([[0], np.cumsum(pc_per_lsoa)[:-1]])
    local_pc = (rank_in_lsoa * pc_per_lsoa[lsoa]) // lsoa_count[lsoa]
    postcode_id = (pc_offset[lsoa] + local_pc).astype(np.int32)
    n_pc = int(pc_per_lsoa.sum())
    pc_lsoa = np.repeat(np.arange(len(lsoa_codes)), pc_per_lsoa)
    pc_district = [lsoa_district[i] for i in pc_lsoa.tolist()]
    # inward codes: an affine permutation of the 4,000 codes per district (unique up to 4,000)
    inward_space = 10 * len(INWARD_LETTERS) ** 2
    perm = affine_unique(inward_space, inward_space, config.seed, "inward")
    seen: dict[str, int] = {}
    postcode_strings: list[str] = []
    for district in pc_district:
        k = seen.get(district, 0)
        seen[district] = k + 1
        code = int(perm[k % inward_space])
        digit, rest = divmod(code, len(INWARD_LETTERS) ** 2)
        a, c = divmod(rest, len(INWARD_LETTERS))
        postcode_strings.append(f"{district} {digit}{INWARD_LETTERS[a]}{INWARD_LETTERS[c]}")

    # blocks of flats vs houses, per postcode; tenure and band per address
    social = np.array([s.social_rent_share for s in config.boroughs])
    block_share = np.clip((social - 0.12) / 0.58, 0.05, 0.9)
    pc_borough = borough[np.searchsorted(postcode_id, np.arange(n_pc))]
    pc_block = rng.random(n_pc) < block_share[pc_borough]
    block = pc_block[postcode_id]
    u = rng.random(n)
    tenure = np.where(
        block,
        np.where(u < 0.70, SOCIAL_RENT, np.where(u < 0.92, PRIVATE_RENT, OWNER)),
        np.where(u < 0.50, OWNER, np.where(u < 0.88, PRIVATE_RENT, SOCIAL_RENT)),
    ).astype(np.int8)
    band_p_flat = np.array([0.10, 0.30, 0.30, 0.18, 0.08, 0.03, 0.01, 0.0])
    band_p_house = np.array([0.01, 0.04, 0.16, 0.26, 0.24, 0.15, 0.10, 0.04])
    band = np.where(
        block, rng.choice(8, n, p=band_p_flat), rng.choice(8, n, p=band_p_house)
    ).astype(np.int8)

    # streets: a postcode continues the previous postcode's street 40% of the time
    new_street = np.r_[True, rng.random(n_pc - 1) >= 0.4]
    new_street |= np.r_[True, pc_lsoa[1:] != pc_lsoa[:-1]] & (rng.random(n_pc) < 0.5)
    pc_street = np.cumsum(new_street) - 1
    n_streets = int(pc_street[-1]) + 1
    stem = rng.integers(0, len(STREET_STEMS), n_streets)
    street_suffix = rng.integers(0, len(STREET_SUFFIXES), n_streets)
    street_names = pa.array(
        [
            f"{STREET_STEMS[s]} {STREET_SUFFIXES[x]}"
            for s, x in zip(stem, street_suffix, strict=True)
        ]
    )
    usrn_per_street = affine_unique(n_streets, 10**7, config.seed, "usrn") + 90_000_000
    addr_street = pc_street[postcode_id]
    street = pc.take(street_names, pa.array(addr_street))

    # numbering: houses numbered along the street, flats within their block (postcode)
    house_no = group_rank(addr_street.astype(np.int64)) + 1
    flat_no = group_rank(postcode_id.astype(np.int64)) + 1
    block_stem = rng.integers(0, len(STREET_STEMS), n_pc)
    block_suffix = rng.integers(0, len(BLOCK_SUFFIXES), n_pc)
    block_names = pa.array(
        [
            f"{STREET_STEMS[s]} {BLOCK_SUFFIXES[x]}"
            for s, x in zip(block_stem, block_suffix, strict=True)
        ]
    )
    blk = pc.take(block_names, pa.array(postcode_id))
    house_pao = pc.cast(pa.array(house_no), pa.string())
    sao = pc.binary_join_element_wise(
        pa.scalar("Flat"), pc.cast(pa.array(flat_no), pa.string()), " "
    )
    no_text = pa.scalar(None, pa.string())
    is_block = pa.array(block)
    sao = pc.if_else(is_block, sao, no_text)
    pao = pc.if_else(is_block, blk, house_pao)
    house_line = pc.binary_join_element_wise(house_pao, street, " ")
    flat_line = pc.binary_join_element_wise(sao, blk, ", ")
    line1 = pc.if_else(is_block, flat_line, house_line)
    line2 = pc.if_else(is_block, street, no_text)
    locality = pc.take(pa.array(ward_area), pa.array(ward))

    uprn = affine_unique(n, 10**11, config.seed, "uprn") + 900_000_000_000
    return Gazetteer(
        uprn=uprn,
        usrn=usrn_per_street[addr_street],
        borough=borough,
        ward=ward,
        lsoa=lsoa,
        postcode=postcode_id,
        tenure=tenure,
        band=band,
        block=block,
        sao=sao,
        pao=pao,
        line1=line1,
        line2=line2,
        street=street,
        locality=locality,
        postcodes=pa.array(postcode_strings),
        ward_codes=ward_codes,
        ward_names=ward_names,
        ward_borough=np.array(ward_borough, dtype=np.int8),
        lsoa_codes=lsoa_codes,
        lsoa_names=lsoa_names,
        occupied=np.zeros(n, dtype=np.bool_),
    )


#: The synthetic region's bounding box (longitude, latitude), roughly south London.
REGION_BOX = (-0.20, 51.38, 0.06, 51.52)
#: ONS property names of each boundary level (the names `joinedup areas load-boundaries` reads).
BOUNDARY_PROPERTIES = {
    "lad": ("LAD24CD", "LAD24NM"),
    "ward": ("WD24CD", "WD24NM"),
    "lsoa": ("LSOA21CD", "LSOA21NM"),
}


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, object]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _feature(level: str, code: str, name: str, geometry: dict[str, object]) -> dict[str, object]:
    cd, nm = BOUNDARY_PROPERTIES[level]
    return {"type": "Feature", "properties": {cd: code, nm: name}, "geometry": geometry}


def boundary_collections(
    gazetteer: Gazetteer, borough_names: list[str], borough_gss: list[str]
) -> dict[str, dict[str, object]]:
    """Generated boundaries that nest exactly: each borough a block of a grid over
    :data:`REGION_BOX`, its wards horizontal bands (height by number of LSOAs), each ward's
    LSOAs equal vertical strips of it. GeoJSON FeatureCollections keyed ``lad|ward|lsoa``."""
    x0, y0, x1, y1 = REGION_BOX
    n = len(borough_names)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    width, height = (x1 - x0) / cols, (y1 - y0) / rows
    lsoa_ward = np.zeros(len(gazetteer.lsoa_codes), dtype=np.int64)
    lsoa_ward[gazetteer.lsoa] = gazetteer.ward  # every LSOA has addresses
    out: dict[str, list[dict[str, object]]] = {"lad": [], "ward": [], "lsoa": []}
    for b in range(n):
        bx0 = x0 + (b % cols) * width
        by1 = y1 - (b // cols) * height
        out["lad"].append(
            _feature(
                "lad", borough_gss[b], borough_names[b], _box(bx0, by1 - height, bx0 + width, by1)
            )
        )
        wards = np.flatnonzero(gazetteer.ward_borough == b)
        per_ward = [np.flatnonzero(lsoa_ward == w) for w in wards]
        total = sum(max(1, p.size) for p in per_ward)
        top = by1
        for w, lsoas in zip(wards, per_ward, strict=True):
            band = height * max(1, lsoas.size) / total
            bottom = top - band
            out["ward"].append(
                _feature(
                    "ward",
                    gazetteer.ward_codes[w],
                    gazetteer.ward_names[w],
                    _box(bx0, bottom, bx0 + width, top),
                )
            )
            strip = width / max(1, lsoas.size)
            for k, lsoa in enumerate(lsoas):
                out["lsoa"].append(
                    _feature(
                        "lsoa",
                        gazetteer.lsoa_codes[lsoa],
                        gazetteer.lsoa_names[lsoa],
                        _box(bx0 + k * strip, bottom, bx0 + (k + 1) * strip, top),
                    )
                )
            top = bottom
    return {
        level: {"type": "FeatureCollection", "name": f"synthetic-{level}", "features": features}
        for level, features in out.items()
    }
