"""
Scopes: a user key reaches its owner's data only (another user's rows are
a 404, exactly as rows that do not exist, and nothing of theirs changes);
a read-only key writes nothing; an admin key does everything. "Nothing
changed" is read back from the database, not from the API.
"""

import client
from conftest import make_key, psql


def rows_of(user_id):
    """Everything the database holds of one user, as text."""
    return psql(
        "SELECT (SELECT row_to_json(u)::text FROM users u WHERE id = :'u'),"
        " (SELECT json_agg(r ORDER BY id)::text FROM urls r"
        "  WHERE user_id = :'u'),"
        " (SELECT json_agg(e.ev ORDER BY e.id)::text FROM events_all e"
        "  WHERE user_id = :'u'),"
        " (SELECT count(*) FROM api_keys WHERE user_id = :'u')", u=user_id)


def test_a_user_key_cannot_reach_another_users_data(a, b, world):
    me, other = world.users[0]["id"], world.users[1]["id"]
    key = {"X-Api-Key": make_key("user", user_id=me)["key"]}
    url, ev = world.urls[1], world.events[1]
    before = rows_of(other)

    for c in (a, b):
        for method, path, body in [
            ("GET", f"/users/{other}", None),
            ("PUT", f"/users/{other}", {"username": "taken"}),
            ("GET", f"/urls/{url['id']}", None),
            ("PUT", f"/urls/{url['id']}",
             {"original_url": "https://evil.example/"}),
            ("PUT", f"/urls/{url['id']}", {"is_active": False}),
            ("DELETE", f"/urls/{url['id']}", None),
            ("GET", f"/urls/{url['id']}/stats", None),
            ("GET", f"/events/{ev['id']}", None),
            ("DELETE", f"/events/{ev['id']}", None),
            ("POST", "/urls", {"user_id": other,
                               "original_url": "https://evil.example/"}),
            ("POST", "/events", {"url_id": url["id"], "user_id": me,
                                 "event_type": "forged"}),
            ("POST", "/events", {"url_id": world.urls[0]["id"],
                                 "user_id": other, "event_type": "forged"}),
        ]:
            r = c.request(method, path, body=body, headers=key)
            assert r.status == 404, (method, path, r)
            # The same answer a row that does not exist gets.
            assert r.json()["code"] == "not_found"

        # Lists hold the owner's rows only, whatever the filter asks.
        users = c.get("/users", headers=key).json()
        assert [u["id"] for u in users] == [me]
        assert c.get(f"/urls?user_id={other}", headers=key).json() == []
        assert all(u["user_id"] == me for u in
                   c.get("/urls?per_page=100", headers=key).json())
        assert c.get(f"/events?user_id={other}", headers=key).json() == []
        assert all(e["user_id"] == me for e in
                   c.get("/events", headers=key).json())
        r = c.get("/urls?per_page=5", headers=key)
        assert r.header("x-total-count") == "1", r.headers

    assert rows_of(other) == before
    # The link still redirects where its owner pointed it.
    r = a.get(f"/{url['short_code']}")
    assert r.status == 302 and r.header("location") == url["original_url"]


def test_a_user_key_acts_as_its_owner(a, world):
    me = world.users[0]["id"]
    key = {"X-Api-Key": make_key("user", user_id=me)["key"]}
    r = a.post("/urls", {"original_url": "https://example.com/mine"},
               headers=key)
    assert r.status == 201, r
    mine = r.json()
    assert mine["user_id"] == me
    r = a.post("/urls", {"user_id": me,
                         "original_url": "https://example.com/mine2"},
               headers=key)
    assert r.status == 201, r
    r = a.put(f"/urls/{mine['id']}", {"title": "mine"}, headers=key)
    assert r.status == 200 and r.json()["title"] == "mine"
    assert a.get(f"/urls/{mine['id']}/stats", headers=key).status == 200
    r = a.post("/events", {"url_id": mine["id"], "user_id": me,
                           "event_type": "mine"}, headers=key)
    assert r.status == 201, r
    assert a.delete(f"/events/{r.json()['id']}", headers=key).status == 204
    r = a.put(f"/users/{me}", {"username": "renamed"}, headers=key)
    assert r.status == 200 and r.json()["username"] == "renamed"
    assert a.delete(f"/urls/{mine['id']}", headers=key).status == 204
    assert psql("SELECT count(*) FROM urls WHERE id = :'id'",
                id=mine["id"]) == "0"


def test_what_a_user_key_can_never_do_is_403(a, world):
    me = world.users[0]["id"]
    key = {"X-Api-Key": make_key("user", user_id=me)["key"]}
    before = rows_of(me)
    for method, path, body in [
        ("POST", "/users", {"username": "x", "email": "x@example.com"}),
        ("POST", "/users/bulk", None),
        ("DELETE", f"/users/{me}", None),
        ("GET", "/keys", None),
        ("POST", "/keys", {"name": "escalate", "scope": "admin"}),
        ("GET", "/keys/1", None),
        ("DELETE", "/keys/1", None),
    ]:
        r = a.request(method, path, body=body, headers=key)
        assert r.status == 403, (method, path, r)
        assert r.json()["code"] == "forbidden"
    assert rows_of(me) == before


def test_a_read_only_key_writes_nothing(a, world):
    me, other = world.users[0]["id"], world.users[1]["id"]
    url, ev = world.urls[1], world.events[1]
    for owner in (None, me):
        key = {"X-Api-Key": make_key("read-only", user_id=owner)["key"]}
        before = rows_of(me) + rows_of(other)
        for method, path, body in [
            ("POST", "/users", {"username": "x", "email": "y@example.com"}),
            ("POST", "/users/bulk", None),
            ("PUT", f"/users/{other}", {"username": "x"}),
            ("PUT", f"/users/{me}", {"username": "x"}),
            ("DELETE", f"/users/{other}", None),
            ("POST", "/urls", {"user_id": me,
                               "original_url": "https://example.com/"}),
            ("PUT", f"/urls/{url['id']}", {"title": "x"}),
            ("DELETE", f"/urls/{url['id']}", None),
            ("POST", "/events", {"url_id": url["id"], "user_id": other,
                                 "event_type": "x"}),
            ("DELETE", f"/events/{ev['id']}", None),
            ("POST", "/keys", {"name": "x", "scope": "admin"}),
            ("DELETE", "/keys/1", None),
        ]:
            r = a.request(method, path, body=body, headers=key)
            assert r.status == 403, (owner, method, path, r)
        assert rows_of(me) + rows_of(other) == before
        # Reads work; with an owner, the owner's only.
        r = a.get(f"/urls/{url['id']}", headers=key)
        assert r.status == (200 if owner is None else 404), r
        assert a.get(f"/users/{me}", headers=key).status == 200


def test_an_admin_key_does_everything(a, world):
    admin = world.admin
    tag = client.uniq("adm")
    u = a.post("/users", {"username": tag, "email": f"{tag}@example.com"},
               headers=admin)
    assert u.status == 201
    uid = u.json()["id"]
    assert a.get(f"/users/{uid}", headers=admin).status == 200
    assert a.put(f"/users/{uid}", {"username": "b"}, headers=admin).status == 200
    url = a.post("/urls", {"user_id": uid,
                           "original_url": "https://example.com/a"},
                 headers=admin)
    assert url.status == 201
    assert a.get(f"/urls/{url.json()['id']}", headers=admin).status == 200
    assert a.put(f"/urls/{url.json()['id']}", {"title": "t"},
                 headers=admin).status == 200
    ev = a.post("/events", {"url_id": url.json()["id"], "user_id": uid,
                            "event_type": "t"}, headers=admin)
    assert ev.status == 201
    assert a.delete(f"/events/{ev.json()['id']}", headers=admin).status == 204
    csv = f"username,email\nbulk{tag},bulk{tag}@example.com\n".encode()
    r = a.post("/users/bulk", body=multipart(csv), headers={
        **admin, "Content-Type": "multipart/form-data; boundary=XyZ"})
    assert r.status == 201 and r.json()["imported"] == 1, r
    k = a.post("/keys", {"name": "n", "scope": "user", "user_id": uid},
               headers=admin)
    assert k.status == 201
    assert a.get("/keys?scope=user&per_page=2", headers=admin).status == 200
    assert a.delete(f"/keys/{k.json()['id']}", headers=admin).status == 204
    assert a.delete(f"/urls/{url.json()['id']}", headers=admin).status == 204
    assert a.delete(f"/users/{uid}", headers=admin).status == 204
    # The user's keys went with the user.
    assert psql("SELECT count(*) FROM api_keys WHERE user_id = :'u'",
                u=uid) == "0"


def multipart(data, boundary="XyZ", name="file"):
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\";"
            f" filename=\"u.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() \
        + data + f"\r\n--{boundary}--\r\n".encode()
