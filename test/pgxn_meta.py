"""The rules of the PGXN Meta Spec 1.0.0 for META.json, as its reference
validator (PGXN::Meta::Validator 0.17, pgxn/pgxn-meta-validator) checks
them: required keys, the type of every known key, SemVer versions, version
ranges, licence names, prereq phases and relationships, the shapes of
resources and no_index, and "x_" for custom keys.

    errors = validate(meta)    # [] when valid; else "/path: what" strings
"""

import re

# SemVer as the spec of 2011 knows it (the validator's SemVer module): three
# numbers without leading zeros, optionally "-" and a pre-release string.
SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+)?")
RANGE_OP = re.compile(r"(<=|>=|==|!=|<|>)\s*")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown"}
PHASES = ("configure", "build", "test", "runtime", "develop")
RELATIONS = ("requires", "recommends", "suggests", "conflicts")
RELEASE_STATUSES = ("stable", "testing", "unstable")


# ----- values: each returns None when valid, else what is wrong -----
def string(v):
    return None if isinstance(v, str) and v != "" else "must be a non-empty string"


def lc_string(v):
    return string(v) or (None if v == v.lower() else f"{v!r} is not a lowercase string")


def _string_class(v, kind, forbidden, minimum, maximum=None):
    if not isinstance(v, str) or v == "" or re.search(forbidden, v):
        return f"{v!r} is not a valid {kind}"
    if len(v) < minimum:
        return f"{kind} must be at least {minimum} characters"
    if maximum and len(v) > maximum:
        return f"{kind} must be no more than {maximum} characters"
    return None


def term(v):
    """At least two characters; no space, control character, / or \\."""
    return _string_class(v, "term", r"[\s\x00-\x1f\x7f/\\]", 2)


def tag(v):
    """1 to 256 characters; no control character, / or \\."""
    return _string_class(v, "tag", r"[\x00-\x1f\x7f/\\]", 1, 256)


def version(v):
    if isinstance(v, str) and SEMVER.fullmatch(v):
        return None
    return f"{v!r} is not a valid semantic version"


def version_range(v):
    """0 (any version), or comma-separated SemVers each with an optional
    operator: "1.2.0" (at least), ">= 1.2.0, != 1.5.0, < 2.0.0"."""
    if v == 0 or v == "0":
        return None
    if not isinstance(v, str) or v == "":
        return f"{v!r} is not a valid version range"
    for part in re.split(r",\s*", v):
        if part == "0":
            continue
        op = RANGE_OP.match(part)
        if version(part[op.end():] if op else part):
            return f"{part!r} in {v!r} is not a valid semantic version"
    return None


def url(v):
    """A scheme and an authority, as the validator's URI split wants."""
    if isinstance(v, str) and re.match(r"[^:/?#]+://[^/?#]+", v):
        return None
    return f"{v!r} is not a valid URL"


def email(v):
    return None if isinstance(v, str) and "@" in v else f"{v!r} is not a valid email address"


def license_name(v):
    return None if v in LICENSES else f"{v!r} is an unknown license"


def release_status(v):
    return None if v in RELEASE_STATUSES else \
        f"{v!r} is not a valid release status; must be one of {', '.join(RELEASE_STATUSES)}"


def anything(v):
    return None


# ----- structures: a spec maps a key to (mandatory, check) -----
def custom_key(key):
    return None if re.match(r"x_", key, re.I) else \
        'Unknown key; custom keys must begin with "x_" or "X_"'


def one_of(names, what):
    """A key check: one of names, or a custom key."""
    return lambda key: None if key in names or re.match(r"x_", key, re.I) else \
        f"Unknown {what}; must be one of {', '.join(names)}"


class Shape:
    """A structure check: appends "path: problem" strings to errors."""

    def check(self, v, path, errors):
        raise NotImplementedError


def _apply(check, v, path, errors):
    """Run a structure check, or a value check (returns a problem or None)."""
    if isinstance(check, Shape):
        check.check(v, path, errors)
    else:
        problem = check(v)
        if problem:
            errors.append(f"{path}: {problem}")


class ListOf(Shape):
    """A non-empty list of values, or one value standing for a list of one."""

    def __init__(self, item):
        self.item = item

    def check(self, v, path, errors):
        if isinstance(v, list) and not v:
            errors.append(f"{path}: missing entries from required list")
        for i, item in enumerate(v if isinstance(v, list) else [v]):
            _apply(self.item, item, f"{path}[{i}]", errors)


class MapOf(Shape):
    """A JSON object: the keys of spec are known (mandatory or not); any
    other key must pass key_check, and its value value_check."""

    def __init__(self, spec, key_check=custom_key, value_check=anything, min_keys=0):
        self.spec, self.key_check, self.value_check = spec, key_check, value_check
        self.min_keys = min_keys

    def check(self, v, path, errors):
        if not isinstance(v, dict):
            errors.append(f"{path}: should be a map structure")
            return
        if len(v) < self.min_keys:
            errors.append(f"{path}: needs at least {self.min_keys} key(s)")
        for key, (mandatory, _) in self.spec.items():
            if mandatory and v.get(key) is None:
                errors.append(f"{path}/{key}: missing, required field")
        for key, value in v.items():
            if key in self.spec:
                _apply(self.spec[key][1], value, f"{path}/{key}", errors)
                continue
            problem = self.key_check(key)
            if problem:
                errors.append(f"{path}/{key}: {problem}")
            else:
                _apply(self.value_check, value, f"{path}/{key}", errors)


class License(Shape):
    """A known licence name, a list of them, or a map of any names to URLs."""

    def check(self, v, path, errors):
        if isinstance(v, dict):
            MapOf({}, key_check=lambda key: None, value_check=url).check(v, path, errors)
        else:
            ListOf(license_name).check(v, path, errors)


PREREQS = MapOf({}, key_check=one_of(PHASES, "prereq phase"),
                value_check=MapOf({}, key_check=one_of(RELATIONS, "prereq relationship"),
                                  value_check=MapOf({}, key_check=term,
                                                    value_check=version_range)))

SPEC_1_0_0 = MapOf({
    "name": (True, term),
    "abstract": (True, string),
    "version": (True, version),
    "maintainer": (True, ListOf(string)),
    "license": (True, License()),
    "provides": (True, MapOf({}, key_check=term, value_check=MapOf({
        "file": (True, string),
        "version": (True, version),
        "abstract": (False, string),
        "docfile": (False, string),
    }), min_keys=1)),
    "meta-spec": (True, MapOf({"version": (True, version), "url": (False, url)})),
    "description": (False, string),
    "generated_by": (False, string),
    "release_status": (False, release_status),
    "tags": (False, ListOf(tag)),
    "no_index": (False, MapOf({"file": (False, ListOf(string)),
                                "directory": (False, ListOf(string))})),
    "prereqs": (False, PREREQS),
    "resources": (False, MapOf({
        "license": (False, ListOf(url)),
        "homepage": (False, url),
        "bugtracker": (False, MapOf({"web": (False, url), "mailto": (False, email)})),
        "repository": (False, MapOf({"web": (False, url), "url": (False, url),
                                      "type": (False, lc_string)})),
    }, value_check=string)),
})


def validate(meta):
    """Every way meta breaks the PGXN Meta Spec 1.0.0; [] when it is valid."""
    errors = []
    SPEC_1_0_0.check(meta, "", errors)
    return errors
