"""Named checks for the stand-ins' own test scripts: each prints PASS or
FAIL with its name, and the script's exit code follows `failures`."""

failures: list[str] = []
passed: list[str] = []


def check(name: str, ok: bool, detail="") -> bool:
    if ok:
        passed.append(name)
        print(f"PASS  {name}")
    else:
        failures.append(name)
        print(f"FAIL  {name}\n      {str(detail)[:1500]}")
    return ok
