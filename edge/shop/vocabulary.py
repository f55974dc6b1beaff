"""The words the catalogue, the concern scores and the matcher share (one place, so a typo in a
catalogue fails against the same list the scores are computed for)."""

from __future__ import annotations

# The concerns a product may address, in the order the report lists them. Moles are measured and shown,
# but no product may claim to address them: a mole is for a doctor, not a shelf ("moles: none").
CONCERNS = ("acne", "spots", "wrinkles", "pores", "blackheads", "dark_circles", "eye_bags", "dryness",
            "oiliness", "redness", "uneven_tone")
CONCERN_LABELS = {"acne": "acne", "spots": "spots", "wrinkles": "wrinkles", "pores": "pores",
                  "blackheads": "blackheads", "dark_circles": "dark circles", "eye_bags": "eye bags",
                  "dryness": "dryness", "oiliness": "oiliness", "redness": "redness / sensitivity",
                  "uneven_tone": "uneven tone"}
CONCERN_ALIASES = {"sensitivity": "redness", "redness_sensitivity": "redness", "redness/sensitivity": "redness",
                   "dark_circle": "dark_circles", "eye_bag": "eye_bags", "spot": "spots", "wrinkle": "wrinkles",
                   "pore": "pores", "blackhead": "blackheads", "oily": "oiliness", "dry": "dryness"}
NOT_A_PRODUCT_CONCERN = {"moles": "moles are not a cosmetic concern: no product may claim to address them",
                         "mole": "moles are not a cosmetic concern: no product may claim to address them"}

SKIN_TYPES = ("oily", "dry", "combination", "normal")
# The six ITA classes of skin.color (edge/analysis/color_science.py), lightest first.
TONES = ("very_light", "light", "intermediate", "tan", "brown", "dark")
ALL = "all"

# The routine's steps, in the order they are applied.
STEPS = ("cleanse", "treat", "moisturise", "protect")
STEP_ALIASES = {"moisturize": "moisturise", "moisturiser": "moisturise", "cleanser": "cleanse",
                "treatment": "treat", "sunscreen": "protect", "protection": "protect"}

# Contraindications a product may carry ("not for ..."); the matcher's rule for each is in matcher.py.
CONTRAINDICATIONS = ("sensitive_skin", "acne_prone_skin", "oily_skin", "dry_skin")
CONTRAINDICATION_ALIASES = {"sensitive": "sensitive_skin", "acne_prone": "acne_prone_skin",
                            "acne-prone": "acne_prone_skin", "oily": "oily_skin", "dry": "dry_skin"}


def normalise(word: str) -> str:
    """'Dark circles' / 'dark-circles' / ' dark_circles ' -> 'dark_circles'."""
    return "_".join(word.strip().lower().replace("-", " ").split())
