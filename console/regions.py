"""Provinces (GB/T 2260), cities and branches."""


def provinces(db):
    return [dict(r) for r in db.query("SELECT * FROM province ORDER BY code")]


def province_names(db, locale="zh_CN"):
    column = "name_zh" if str(locale).startswith("zh") else "name_en"
    return {r["code"]: r[column] for r in db.query(f"SELECT code, {column} FROM province")}


def cities(db, province_code=None):
    if province_code:
        return [dict(r) for r in db.query("SELECT * FROM city WHERE province_code = ? ORDER BY code", [province_code])]
    return [dict(r) for r in db.query("SELECT * FROM city ORDER BY code")]


def branches(db, province_code=None):
    if province_code:
        return [dict(r) for r in db.query("SELECT * FROM branch WHERE province_code = ? ORDER BY code", [province_code])]
    return [dict(r) for r in db.query("SELECT * FROM branch ORDER BY code")]


def add_branch(db, code, name, city_code):
    """Add an outlet or sub-branch under a city; its province follows from the city."""
    city = db["city"].get(city_code)
    db["branch"].insert({"code": code, "name": name, "city_code": city_code, "province_code": city["province_code"]}, ignore=True)


def lookup_tables(db):
    """Sets of known codes, and each city's and branch's province, for bulk checks."""
    return {
        "provinces": {r["code"] for r in db.query("SELECT code FROM province")},
        "cities": {r["code"]: r["province_code"] for r in db.query("SELECT code, province_code FROM city")},
        "branches": {r["code"]: (r["city_code"], r["province_code"]) for r in db.query("SELECT code, city_code, province_code FROM branch")},
    }
