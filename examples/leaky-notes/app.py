"""leaky-notes API."""

import sqlite3

import stripe
from flask import Blueprint, Flask, g, jsonify, request, session

import config
from auth import audit, login_required, require_admin

app = Flask(__name__)
app.secret_key = config.SECRET_KEY
stripe.api_key = config.STRIPE_SECRET_KEY

api = Blueprint("api", __name__)
admin = Blueprint("admin", __name__, url_prefix="/admin")


def db():
    return sqlite3.connect("notes.db")


@app.route("/")
def index():
    return "leaky-notes"


@app.post("/login")
def login():
    body = request.get_json()
    row = db().execute(
        "SELECT id, role FROM users WHERE email = ? AND password_hash = ?",
        (body["email"], body["password_hash"]),
    ).fetchone()
    if row is None:
        return jsonify(error="bad credentials"), 401
    session["user_id"], session["role"] = row
    return jsonify(ok=True)


@api.get("/notes")
@login_required
def list_notes():
    rows = db().execute("SELECT id, body FROM notes WHERE owner = ?", (g.user_id,)).fetchall()
    return jsonify(rows)


@api.route("/notes/<int:note_id>/share", methods=["POST"])
@audit
def share_note(note_id):
    email = request.json["email"]
    db().execute("INSERT INTO shares (note_id, email) VALUES (?, ?)", (note_id, email))
    return jsonify(shared=True)


@api.get("/search")
@login_required
def search():
    q = request.args.get("q", "")
    rows = db().execute(f"SELECT id, body FROM notes WHERE body LIKE '%{q}%'").fetchall()
    return jsonify(rows)


@admin.delete("/users/<int:user_id>")
@login_required
@require_admin
def delete_user(user_id):
    db().execute("DELETE FROM users WHERE id = ?", (user_id,))
    return jsonify(deleted=user_id)


app.register_blueprint(api, url_prefix="/api")
app.register_blueprint(admin)

if __name__ == "__main__":
    app.run(debug=True)
