"""Airflow's ``conf`` (``airflow.configuration``, ``airflow.sdk``) for DAG code, answered from
this system's own configuration (`keys.KEYS` says how, key by key).

The methods are Airflow 3's (``get``, ``getint``, ``getboolean``, ``getfloat``, ``getlist``,
``getjson``, ``gettimedelta``, ``getimport``, ``getsection``, ``has_option`` ...), with its
lookup of old key names, ``fallback=`` and its ``AirflowConfigException`` messages. Values are
read at each call, from the environment of the process (the DAG processor's parser, a task
runner on any host), as Airflow's ``conf`` reads that host's configuration.

``AIRFLOW__SECTION__KEY`` variables are read, as Airflow reads them, only for keys nothing here
acts on (a DAG's own section, remote logging ...). For a key this system answers itself, such
a variable would be ignored by everything else, so reading the key refuses it, naming the
``ORCH_*`` variable to set instead. There is no ``airflow.cfg``: orchestrator is configured by
its environment alone.
"""

from __future__ import annotations

import datetime
import importlib
import json
import logging
import os
from typing import Any

from ..exceptions import AirflowConfigException
from .keys import DEPRECATED, KEYS, AirflowDefault, FromSetting, Withheld, orch_home

log = logging.getLogger(__name__)

ENV_VAR_PREFIX = "AIRFLOW__"
# Suffixes Airflow gives variables that name a command or a secret to read a value from.
INDIRECT_SUFFIXES = ("_CMD", "_SECRET")

_NOT_GIVEN: Any = object()


def env_var_name(section: str, key: str) -> str:
    """Airflow's variable for a key: ``AIRFLOW__{SECTION}__{KEY}``."""
    return f"{ENV_VAR_PREFIX}{section.replace('.', '_').upper()}__{key.upper()}"


def expand_env_var(value: str) -> str:
    """``~`` and ``$VARS`` expanded, as Airflow expands its configuration's values."""
    return os.path.expanduser(os.path.expandvars(value))


def get_airflow_home() -> str:
    """Airflow's home is orchestrator's: ``ORCH_HOME``."""
    return str(orch_home())


# (section, key) -> the deprecated names that lead to it (DEPRECATED, reversed).
_OLD_NAMES: dict[tuple[str, str], list[tuple[str, str]]] = {}
for _old, _new in DEPRECATED.items():
    _OLD_NAMES.setdefault(_new, []).append(_old)


class AirflowConfigParser:
    """Airflow's configuration, read-only, answered from this system's settings."""

    def get(
        self,
        section: str,
        key: str,
        fallback: Any = _NOT_GIVEN,
        *,
        suppress_warnings: bool = False,
        lookup_from_deprecated: bool = True,
        team_name: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if kwargs:
            raise TypeError(f"conf.get() got an unexpected keyword argument {sorted(kwargs)[0]!r}")
        if team_name is not None:
            raise AirflowConfigException(
                f"team_name={team_name!r}: multi-team configuration is not supported by "
                "orchestrator"
            )
        section, key = section.lower(), key.lower()
        if lookup_from_deprecated:
            section, key = DEPRECATED.get((section, key), (section, key))
        value = self._lookup(section, key)
        if value is not _NOT_GIVEN:
            return value
        if fallback is not _NOT_GIVEN:
            return fallback
        if not suppress_warnings:
            log.warning("section/key [%s/%s] not found in config", section, key)
        answer = KEYS.get(section, {}).get(key)
        message = f"section/key [{section}/{key}] not found in config"
        if isinstance(answer, Withheld):
            message += f" ({answer.why})"
        raise AirflowConfigException(message)

    def _lookup(self, section: str, key: str) -> Any:
        """The value of a key, or _NOT_GIVEN."""
        answer = KEYS.get(section, {}).get(key)
        variable = env_var_name(section, key)
        given = os.environ.get(variable)
        if given is None:
            # Set under a deprecated name, which Airflow still reads as the key's fallback:
            # used as Airflow would, or refused like the new name for a key we answer.
            for old_name in _OLD_NAMES.get((section, key), ()):
                if (old_value := os.environ.get(env_var_name(*old_name))) is not None:
                    variable, given = env_var_name(*old_name), old_value
                    break
        if answer is None or isinstance(answer, AirflowDefault):
            if given is not None:
                return expand_env_var(given)
            return _NOT_GIVEN if answer is None else answer.value
        if given is not None:
            instead = (
                f"set {answer.env}" if isinstance(answer, FromSetting) else "it cannot be changed"
            )
            raise AirflowConfigException(
                f"{variable} is set, but orchestrator does not read Airflow's configuration for "
                f"[{section}] {key}: {instead}"
            )
        if isinstance(answer, Withheld):
            return _NOT_GIVEN
        if isinstance(answer, FromSetting):
            raw = os.environ.get(answer.env)
            if not raw:  # an empty variable counts as unset, as orchestrator_site.config reads it
                default = answer.default()
                if default is None:
                    return _NOT_GIVEN if answer.unset is None else answer.unset
                return answer.spell(default)
            try:
                return answer.spell(raw)
            except ValueError as exc:
                raise AirflowConfigException(
                    f"{answer.env}={raw!r} {exc} (read for [{section}] {key})"
                ) from None
        return answer.value

    def getboolean(self, section: str, key: str, **kwargs: Any) -> bool:
        val = str(self.get(section, key, **kwargs)).lower().strip()
        if "#" in val:
            val = val.split("#")[0].strip()
        if val in ("t", "true", "1"):
            return True
        if val in ("f", "false", "0"):
            return False
        raise AirflowConfigException(
            f'Failed to convert value to bool. Please check "{key}" key in "{section}" section. '
            f'Current value: "{val}".'
        )

    def getint(self, section: str, key: str, **kwargs: Any) -> int:
        val = self.get(section, key, **kwargs)
        if val is None:
            raise AirflowConfigException(
                f"Failed to convert value None to int. "
                f'Please check "{key}" key in "{section}" section is set.'
            )
        try:
            return int(val)
        except ValueError:
            try:
                # "30.0" reads as 30, as in Airflow; "30.5" does not.
                if (float_val := float(val)) != (int_val := int(float_val)):
                    raise ValueError from None
                return int_val
            except (ValueError, OverflowError):
                raise AirflowConfigException(
                    f'Failed to convert value to int. Please check "{key}" key in "{section}" '
                    f'section. Current value: "{val}".'
                ) from None

    def getfloat(self, section: str, key: str, **kwargs: Any) -> float:
        val = self.get(section, key, **kwargs)
        if val is None:
            raise AirflowConfigException(
                f"Failed to convert value None to float. "
                f'Please check "{key}" key in "{section}" section is set.'
            )
        try:
            return float(val)
        except ValueError:
            raise AirflowConfigException(
                f'Failed to convert value to float. Please check "{key}" key in "{section}" '
                f'section. Current value: "{val}".'
            ) from None

    def getlist(self, section: str, key: str, delimiter: str = ",", **kwargs: Any) -> Any:
        val = self.get(section, key, **kwargs)
        if isinstance(val, list) or val is None:
            return val  # only a fallback= can be these
        # As Airflow's: an empty value is one empty item, [""], not an empty list.
        return [item.strip() for item in str(val).split(delimiter)]

    def getjson(self, section: str, key: str, fallback: Any = None, **kwargs: Any) -> Any:
        """A JSON value; ``fallback`` is used as it is when the key has no value."""
        data = self.get(section, key, fallback=None, **kwargs)
        if data is None or data == "":
            return fallback
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            raise AirflowConfigException(
                f"Unable to parse [{section}] {key!r} as valid json"
            ) from exc

    def gettimedelta(
        self, section: str, key: str, fallback: Any = None, **kwargs: Any
    ) -> datetime.timedelta | None:
        """The value as ``timedelta(seconds=<int>)``; ``fallback`` when it has none."""
        val = self.get(section, key, fallback=fallback, **kwargs)
        if not val:
            return fallback
        try:
            seconds = int(val)
        except (TypeError, ValueError):
            raise AirflowConfigException(
                f'Failed to convert value to int. Please check "{key}" key in "{section}" '
                f'section. Current value: "{val}".'
            ) from None
        try:
            return datetime.timedelta(seconds=seconds)
        except OverflowError as err:
            raise AirflowConfigException(
                f"Failed to convert value to timedelta in `seconds`. {err}. "
                f'Please check "{key}" key in "{section}" section. Current value: "{val}".'
            ) from None

    def getimport(self, section: str, key: str, **kwargs: Any) -> Any:
        """The object a dotted path names (None for an empty value)."""
        path = self.get(section, key, **kwargs)
        if not path:
            return None
        module_name, _, attribute = str(path).rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError):
            raise AirflowConfigException(
                f'The object could not be loaded. Please check "{key}" key in "{section}" '
                f'section. Current value: "{path}".'
            ) from None

    def get_mandatory_value(self, section: str, key: str, **kwargs: Any) -> str:
        value = self.get(section, key, **kwargs)
        if value is None:
            raise ValueError(f"The value {section}/{key} should be set!")
        return value

    def get_mandatory_list_value(self, section: str, key: str, **kwargs: Any) -> list[str]:
        value = self.getlist(section, key, **kwargs)
        if value is None:
            raise ValueError(f"The value {section}/{key} should be set!")
        return value

    def has_option(self, section: str, option: str, **kwargs: Any) -> bool:
        try:
            value = self.get(section, option, fallback=_NOT_GIVEN, suppress_warnings=True, **kwargs)
        except AirflowConfigException:
            return False
        return value is not _NOT_GIVEN

    def has_section(self, section: str) -> bool:
        return section.lower() in self.sections()

    def sections(self) -> list[str]:
        """The sections answered here, and those ``AIRFLOW__`` variables name."""
        found = dict.fromkeys(KEYS)
        for variable in os.environ:
            if variable.startswith(ENV_VAR_PREFIX):
                section, separator, _key = variable[len(ENV_VAR_PREFIX) :].partition("__")
                if separator and section:
                    found.setdefault(section.lower())
        return list(found)

    def getsection(self, section: str, team_name: str | None = None) -> dict[str, Any] | None:
        """The section's keys and values (numbers and booleans converted, as Airflow does);
        None for a section that does not exist."""
        if team_name is not None:
            raise AirflowConfigException(
                f"team_name={team_name!r}: multi-team configuration is not supported by "
                "orchestrator"
            )
        section = section.lower()
        if not self.has_section(section):
            return None
        keys = list(KEYS.get(section, {}))
        prefix = env_var_name(section, "")
        for variable in sorted(os.environ):
            if variable.startswith(prefix) and not variable.endswith(INDIRECT_SUFFIXES):
                keys.append(variable[len(prefix) :].lower())
        values: dict[str, Any] = {}
        for key in dict.fromkeys(keys):
            value = self._lookup(section, key)
            if value is not _NOT_GIVEN:
                values[key] = _converted(value)
        return values


def _converted(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        pass
    if value.lower() in ("t", "true"):
        return True
    if value.lower() in ("f", "false"):
        return False
    return value
