"""Load and validate YAML configuration with errors that name file, line, field and the fix.

Validation never stops at the first problem: every issue of every file is collected, so an
operator mends a file in one pass. A bad municipality file is reported and skipped; the
others load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from config.schema import MunicipalityConfig
from convoca.errors import ConfigError, ConfigIssue
from convoca.sdg_codes import ALL_TARGETS

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]


class _LineIndex:
    """Maps a path inside a YAML document (keys and list indexes) to its 1-based line."""

    def __init__(self, root: yaml.Node | None):
        self.lines: dict[Loc, int] = {}
        self.key_lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[Loc, int]] = []
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, loc: Loc) -> None:
        self.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    self.duplicates.append(((*loc, key), key_node.start_mark.line + 1))
                seen.add(key)
                self.key_lines[(*loc, key)] = key_node.start_mark.line + 1
                self._walk(value_node, (*loc, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*loc, i))

    def line_of(self, loc: Loc) -> int | None:
        if loc in self.key_lines:
            return self.key_lines[loc]
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())


def _field_name(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _field_info(model: type[BaseModel], loc: Loc) -> tuple[FieldInfo | None, type[BaseModel] | None]:
    """The FieldInfo at `loc` and the model class that owns it, following nested models."""
    current: type[BaseModel] | None = model
    info: FieldInfo | None = None
    owner: type[BaseModel] | None = None
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(part)
        owner = current
        if info is None:
            return None, owner
        current = _nested_model(info.annotation)
    return info, owner


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _strip_value_error(msg: str) -> str:
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _describe(error: dict[str, Any], model: type[BaseModel]) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    msg = _strip_value_error(error["msg"])
    # Pydantic appends the union/literal branch to loc (e.g. 'literal[...]'); keep the data path.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    info, owner = _field_info(model, loc)
    hint = info.description if info is not None and info.description else None
    if kind == "missing":
        return loc, f"required field is missing; add it: {hint or 'see config/schema.py'}"
    if kind == "extra_forbidden":
        allowed = ", ".join(owner.model_fields) if owner is not None else ""
        return loc, f"unknown key; remove it or fix its spelling (allowed keys: {allowed})"
    if kind in {"literal_error", "enum"}:
        return loc, f"{msg}"
    if hint and kind != "value_error":
        return loc, f"{msg}; expected {hint}"
    return loc, msg


def validate_document(data: Any, model: type[M], file: str, index: _LineIndex) -> tuple[M | None, list[ConfigIssue]]:
    issues = [
        ConfigIssue(file, line, _field_name(loc), "key appears twice; keep one (YAML would silently keep the last)")
        for loc, line in index.duplicates
    ]
    if not isinstance(data, dict):
        issues.append(ConfigIssue(file, 1, "(document)", f"expected a mapping of keys at the top level, found {type(data).__name__}"))
        return None, issues
    try:
        obj = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc, message = _describe(error, model)  # type: ignore[arg-type]
            issues.append(ConfigIssue(file, index.line_of(loc), _field_name(loc), message))
        return None, issues
    return (obj if not issues else None), issues


def read_yaml(path: Path) -> tuple[Any, _LineIndex, list[ConfigIssue]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, _LineIndex(None), [ConfigIssue(file, None, "(file)", f"cannot read the file: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, _LineIndex(None), [ConfigIssue(file, None, "(file)", "not UTF-8 text; save the file as UTF-8")]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, _LineIndex(None), [ConfigIssue(file, line, "(yaml)", f"invalid YAML: {exc.problem or exc}; check indentation and quoting")]
    except yaml.YAMLError as exc:
        return None, _LineIndex(None), [ConfigIssue(file, None, "(yaml)", f"invalid YAML: {exc}")]
    return data, _LineIndex(node), []


def load_model(path: Path, model: type[M]) -> M:
    """Load one YAML file into `model` or raise ConfigError with every issue found."""
    data, index, issues = read_yaml(path)
    if issues:
        raise ConfigError(issues)
    obj, issues = validate_document(data, model, str(path), index)
    if obj is None:
        raise ConfigError(issues)
    return obj


@dataclass(frozen=True)
class LoadedMunicipality:
    slug: str
    path: Path
    config: MunicipalityConfig

    @property
    def config_hash(self) -> str:
        payload = json.dumps(self.config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def _semantic_issues(path: Path, cfg: MunicipalityConfig, index: _LineIndex) -> list[ConfigIssue]:
    issues = []
    known = set(ALL_TARGETS)
    for i, profile in enumerate(cfg.profiles):
        for j, code in enumerate(profile.sdg_targets):
            if code not in known:
                loc: Loc = ("profiles", i, "sdg_targets", j)
                issues.append(ConfigIssue(str(path), index.line_of(loc), _field_name(loc),
                                          f"'{code}' is not one of the 169 SDG targets; check the code (e.g. 11.2, 6.b)"))
    return issues


def load_municipality(path: Path) -> LoadedMunicipality:
    data, index, issues = read_yaml(path)
    if issues:
        raise ConfigError(issues)
    cfg, issues = validate_document(data, MunicipalityConfig, str(path), index)
    if cfg is not None:
        issues = _semantic_issues(path, cfg, index)
    if cfg is None or issues:
        raise ConfigError(issues)
    return LoadedMunicipality(slug=cfg.slug or path.stem, path=path, config=cfg)


def load_municipalities(directory: Path) -> tuple[list[LoadedMunicipality], list[ConfigIssue]]:
    """Every valid file in `directory`; the issues of the invalid ones. One bad file stops nothing."""
    loaded: list[LoadedMunicipality] = []
    issues: list[ConfigIssue] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            item = load_municipality(path)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        if item.slug in seen:
            issues.append(ConfigIssue(str(path), None, "slug", f"'{item.slug}' is already used by {seen[item.slug]}; give each file its own slug"))
            continue
        seen[item.slug] = path
        loaded.append(item)
    return loaded, issues


def _check_fx_rates(path: Path) -> None:
    from crawlers.fx import check_rates_file

    check_rates_file(path)


def _check_sources(path: Path) -> None:
    from config.sources_schema import SourcesConfig

    load_model(path, SourcesConfig)


# Which check a file gets, by its name; anything else is a municipality file.
FILE_KINDS: dict[str, Any] = {"fx_rates.yaml": _check_fx_rates, "sources.yaml": _check_sources}


def check_files(paths: list[Path]) -> list[ConfigIssue]:
    """Validate each file with the schema its name calls for; return every issue of every file."""
    issues: list[ConfigIssue] = []
    for path in paths:
        checker = FILE_KINDS.get(path.name)
        try:
            if checker is not None:
                checker(path)
            else:
                load_municipality(path)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return issues
