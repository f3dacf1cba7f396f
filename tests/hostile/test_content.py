"""Hostile content in well-formed requests: invalid UTF-8 and overlong
encodings, NUL bytes, deep nesting, numbers at and past every integer
limit, every wrong JSON type in every field, odd multipart bodies. Each
must be refused with the contract's JSON 4xx (or, for a clamped page
number, served), and change nothing.
"""

import json

import pytest

import rawhttp
from conftest import exchange, expect_json, expect_json_error

R = rawhttp.request
INT64_MAX = 9223372036854775807


def send(method, path, body=None, **kw):
    return exchange(R(method, path, body=body, **kw), idle=5, want=1)


# ---- paths and query strings ------------------------------------------------

BAD_PATHS = [
    b"/%C0%AF", b"/%c0%ae%c0%ae/etc", b"/%ff", b"/\xff\xfe\xfd",
    b"/users/%E0%80%AF", b"/urls/%ED%A0%80/stats", b"/users%00",
    b"/%00", b"/users/1%00", b"/..%2f..%2fetc%2fpasswd", b"/users/1%2f2",
    b"/urls/\xc0\xaf/redirect", b"/%F4%90%80%80", b"/users/../urls",
    b"/events/\xed\xa0\x80", b"/" + b"a" * 33, b"/ab",
]


@pytest.mark.parametrize("path", BAD_PATHS, ids=lambda p: repr(p)[2:-1])
def test_bad_path(path):
    expect_json_error(send("GET", path), status=None)


BAD_QUERIES = [
    "/users?username=%ff", "/users?username=%C0%AF", "/users?email=%00",
    "/users?page=%ED%A0%80", "/users?page=1%", "/users?page=%zz",
    "/users?" + "&".join("a%d=1" % i for i in range(33)),
    "/urls?user_id=9223372036854775808", "/urls?user_id=1e3",
    "/urls?is_active=yes", "/events?url_id=-9223372036854775809",
    "/users?page=abc", "/users?per_page=", "/users?after_id=0x10",
]


@pytest.mark.parametrize("path", BAD_QUERIES)
def test_bad_query(path):
    expect_json_error(send("GET", path), status=400)


CLAMPED = [
    "/users?page=9223372036854775808&per_page=99999999999999999999",
    "/users?page=-9223372036854775809&per_page=-1",
    "/users?after_id=18446744073709551616&per_page=1",
    "/users?page=9223372036854775807&per_page=1000",
    "/events?after_id=-1&per_page=0",
]


@pytest.mark.parametrize("path", CLAMPED)
def test_page_numbers_at_the_limits(path):
    """Out-of-range numbers are clamped, as the contract says: served.
    A page too deep to serve cheaply may instead be refused with a JSON
    400 pointing at after_id (the contract allows bounding them)."""
    e = send("GET", path)
    if e.first is not None and e.first.status == 400:
        expect_json_error(e, status=400)
        return
    expect_json(e, 200)


@pytest.mark.parametrize("path", [
    "/users/9223372036854775807", "/users/9223372036854775808",
    "/users/-9223372036854775808", "/users/0", "/urls/-1/stats",
    "/events/99999999999999999999999", "/urls/1e3", "/users/0x1",
])
def test_ids_at_and_past_the_limits(path):
    expect_json_error(send("GET", path), status=404)


# ---- bodies: encodings, NUL, nesting ---------------------------------------

BAD_BODIES = {
    "invalid UTF-8": b'{"username":"\xff","email":"a@b.co"}',
    "overlong slash": b'{"username":"\xc0\xaf","email":"a@b.co"}',
    "encoded surrogate": b'{"username":"\xed\xa0\x80","email":"a@b.co"}',
    "lone surrogate escape": b'{"username":"\\ud800","email":"a@b.co"}',
    "raw NUL in a string": b'{"username":"a\x00b","email":"a@b.co"}',
    "raw NUL outside": b'{"username":"a",\x00"email":"a@b.co"}',
    "byte order mark": b'\xef\xbb\xbf{"username":"a","email":"a@b.co"}',
    "truncated": b'{"username":"a","email":"a@b',
    "trailing garbage": b'{"username":"a","email":"a@b.co"} x',
    "two objects": b'{"username":"a"}{"email":"a@b.co"}',
    "not an object: array": b'[]',
    "not an object: string": b'"x"',
    "not an object: number": b'1',
    "not an object: null": b'null',
    "blank": b'   \r\n\t ',
    "form-encoded": b'username=a&email=a%40b.co',
    "arrays 100000 deep": b'[' * 100000 + b']' * 100000,
    "objects 5000 deep": b'{"a":' * 5000 + b'1' + b'}' * 5000,
    "NaN": b'{"username":NaN,"email":"a@b.co"}',
    "comment": b'{"username":"a",/*c*/"email":"a@b.co"}',
    "single quotes": b"{'username':'a','email':'a@b.co'}",
    "NUL escape in a key": b'{"user\\u0000name":"a","email":"a@b.co"}',
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_malformed_body(name):
    expect_json_error(send("POST", "/users", BAD_BODIES[name]), status=400)


@pytest.mark.parametrize("field,value", [
    ("username", "a\\u0000b"), ("email", "a\\u0000@b.co"),
    ("username", "\\u202e\\u0000"), ("username", "x" * 10000),
    ("email", "a@" + "b" * 300 + ".co"), ("username", "\\u0007bell"),
])
def test_bad_string_values(field, value):
    body = {"username": "ok", "email": "ok@example.com"}
    text = json.dumps(body).replace('"ok"' if field == "username" else
                                    '"ok@example.com"', '"%s"' % value, 1)
    e = send("POST", "/users", text.encode())
    expect_json_error(e, status=422)
    assert field in e.first.json().get("fields", {}), str(e)


def test_deep_details_stay_json():
    """2000 levels inside details (jansson's limit is 2048): well-formed,
    so it reaches the statement, which finds no such URL."""
    details = '{"a":' * 2000 + '1' + '}' * 2000
    body = ('{"url_id":%d,"user_id":%d,"event_type":"x","details":%s}' %
            (INT64_MAX, INT64_MAX, details))
    expect_json_error(send("POST", "/events", body.encode()), status=404)


def test_duplicate_keys():
    """The last of a repeated key counts: here a number, refused."""
    e = send("POST", "/users", b'{"username":"a","username":1,'
             b'"email":"a@b.co"}')
    expect_json_error(e, status=422)


# ---- numbers at and past every integer limit --------------------------------

INT_FIELDS = [("POST", "/urls", "user_id",
               {"original_url": "https://example.com/"}),
              ("POST", "/events", "url_id",
               {"user_id": INT64_MAX, "event_type": "x"}),
              ("POST", "/events", "user_id",
               {"url_id": INT64_MAX, "event_type": "x"})]

# (literal, expected status): in range but no such row is a 404; past
# int64, or not an integer, a 422 naming the field.
NUMBERS = [
    ("9223372036854775807", 404), ("-9223372036854775808", 404),
    ("0", 404), ("-1", 404),
    ("9223372036854775808", 422), ("-9223372036854775809", 422),
    ("18446744073709551616", 422), ("1" + "0" * 400, 422),
    ("1e3", 422), ("1.0", 422), ("-0.0", 422), ("1e400", 422),
    ("1E-400", 422), ("123456789012345678901234567890e-10", 422),
]


@pytest.mark.parametrize("method,path,field,rest", INT_FIELDS,
                         ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("literal,status", NUMBERS)
def test_integer_limits(method, path, field, rest, literal, status):
    body = json.dumps(rest)[:-1] + ', "%s": %s}' % (field, literal)
    e = send(method, path, body.encode())
    expect_json_error(e, status=status)
    if status == 422:
        assert field in e.first.json().get("fields", {}), str(e)


# A link's click cap: an integer from 1 to 10^12, whatever the number's
# spelling; past it, and past int64, a 422 naming the field.
@pytest.mark.parametrize("literal", [
    "0", "-1", "1000000000001", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "1e3", "1.0", "1" + "0" * 400])
def test_max_clicks_limits(literal):
    body = ('{"user_id": %d, "original_url": "https://example.com/", '
            '"max_clicks": %s}' % (INT64_MAX, literal))
    e = send("POST", "/urls", body.encode())
    expect_json_error(e, status=422)
    assert "max_clicks" in e.first.json().get("fields", {}), str(e)


@pytest.mark.parametrize("value", [
    "2000-01-01T00:00:00", "2099-02-30T00:00:00", "2099-01-01 00:00:00",
    "2099-01-01T00:00:00Z", "2099-01-01T00:00:00.5", "99999-01-01T00:00:00",
    "2099-01-01T24:00:00", r"\u0000", r"2099-01-01T00:00:0\u0660", ""])
def test_bad_expiry(value):
    """In the past, not a real date, another spelling than the
    contract's, a NUL, a digit from another script: a 422 naming it."""
    body = ('{"user_id": %d, "original_url": "https://example.com/", '
            '"expires_at": "%s"}' % (INT64_MAX, value))
    e = send("POST", "/urls", body.encode())
    expect_json_error(e, status=422)
    assert "expires_at" in e.first.json().get("fields", {}), str(e)


# ---- every wrong JSON type in every field -----------------------------------

TYPES = {"null": None, "true": True, "integer": 7, "real": 1.5,
         "string": "s", "array": [1], "object": {"k": 1}}

# field: (JSON types it takes, null allowed)
SCHEMAS = {
    ("POST", "/users"): {"username": ("string",), "email": ("string",)},
    ("PUT", "/users/{user}"): {"username": ("string",),
                               "email": ("string",)},
    ("POST", "/urls"): {"user_id": ("integer",), "original_url": ("string",),
                        "title": ("string", "null"),
                        "is_active": ("true",),
                        "short_code": ("string", "null"),
                        "expires_at": ("string", "null"),
                        "max_clicks": ("integer", "null")},
    ("PUT", "/urls/{url}"): {"original_url": ("string",),
                             "title": ("string", "null"),
                             "is_active": ("true",),
                             "expires_at": ("string", "null"),
                             "max_clicks": ("integer", "null")},
    ("POST", "/events"): {"url_id": ("integer",), "user_id": ("integer",),
                          "event_type": ("string",),
                          "details": ("object", "null")},
}

WRONG = [(route, field, t) for route, fields in SCHEMAS.items()
         for field, ok in fields.items() for t in TYPES if t not in ok]


@pytest.mark.parametrize("route,field,jtype", WRONG,
                         ids=lambda v: "%s %s" % v if isinstance(v, tuple)
                         else str(v))
def test_wrong_json_type(ids, route, field, jtype):
    method, path = route
    body = json.dumps({field: TYPES[jtype]})
    e = send(method, path.format(**ids), body.encode())
    expect_json_error(e, status=422)
    fields = e.first.json().get("fields", {})
    assert field in fields, f"{field} not named: {e}"


# ---- multipart bulk imports ---------------------------------------------------

def bulk(body, ctype):
    return exchange(R("POST", "/users/bulk", body=body, content_type=ctype),
                    idle=5, want=1)


@pytest.mark.parametrize("ctype,body", [
    (None, b"id,username,email\n"),
    ("multipart/form-data", b"--x\r\n\r\n--x--"),
    ("multipart/form-data; boundary=" + "b" * 71, b"--b\r\n"),
    ("multipart/form-data; boundary=x", b"no delimiter"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: "
     b"form-data; name=\"file\"\r\n\r\nid,username,email\r\n"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: "
     b"form-data; name=\"other\"\r\n\r\nx\r\n--x--"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: "
     b"form-data; name=\"file\"\r\n\r\n\r\n--x--"),
    ("application/json", b'{"file":"id,username,email"}'),
])
def test_bad_multipart(ctype, body):
    expect_json_error(bulk(body, ctype), status=400)


def test_imports_in_a_crowd_keep_the_workers():
    """Imports that come together and one after the other, as fast as the
    client can send them: each gets its 400, no worker dies (the guard
    compares the processes). Kore's own task threads once killed a worker
    here (src/api/bulk.c)."""
    import concurrent.futures
    body = (b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n"
            b"\r\nid,username,email\r\n")

    def burst(_):
        return [bulk(body, "multipart/form-data; boundary=x")
                for _ in range(15)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = [ex for b in pool.map(burst, range(8)) for ex in b]
    assert len(answers) == 120
    for ex in answers:
        expect_json_error(ex, status=400)


def test_csv_of_bad_rows_imports_nothing():
    """Every row is bad (NUL, invalid UTF-8, overlong, controls, bad ids):
    201 with each one skipped, nothing stored."""
    csv = (b"id,username,email\r\n"
           b"1,a\x00b,a1@hostile.example\r\n"
           b"2,\xff\xfe,a2@hostile.example\r\n"
           b"3,\xc0\xaf,a3@hostile.example\r\n"
           b"4,\x1b[31m,a4@hostile.example\r\n"
           b"-5,e,a5@hostile.example\r\n"
           b"99999999999999999999,f,a6@hostile.example\r\n"
           b"7,g,not-an-address\r\n"
           b"\"8,h,a8@hostile.example\r\n")
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; "
            b"filename=\"u.csv\"\r\n\r\n" + csv + b"\r\n--b--\r\n")
    e = bulk(body, "multipart/form-data; boundary=b")
    r = e.first
    assert r is not None and r.status == 201, str(e)
    j = r.json()
    assert j["imported"] == 0 and j["skipped"] >= 7, str(e)
