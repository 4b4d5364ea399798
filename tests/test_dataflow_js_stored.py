"""Stored data in the browser: what an Angular component reads from the app's own API is a
stored (database) value, followed through injected services, RxJS and ``Promise.all``; an
unescaped HTML sink it reaches is a flow of that source kind, not of request input."""

from __future__ import annotations

from js_support import js_flows

from threatmodel.dataflow.proof import proves
from threatmodel.models import Flow

SERVICE = """\
import { Injectable, inject } from '@angular/core'
import { HttpClient } from '@angular/common/http'
import { map } from 'rxjs/operators'

@Injectable({ providedIn: 'root' })
export class ItemService {
  private readonly http = inject(HttpClient)

  list () {
    return this.http.get('/api/items').pipe(map((response: any) => response.data))
  }

  label (id: number) {
    return 'item ' + id
  }
}
"""

COMPONENT = """\
import { Component } from '@angular/core'
import { DomSanitizer } from '@angular/platform-browser'
import { forkJoin, of } from 'rxjs'
import { ItemService } from '../services/item.service'

@Component({ selector: 'app-items', templateUrl: './items.html' })
export class ItemsComponent {
  constructor (private readonly items: ItemService, private readonly sanitizer: DomSanitizer) {}

  show () {
    forkJoin([of('constant'), this.items.list()]).subscribe({
      next: ([title, rows]) => {
        this.title = this.sanitizer.bypassSecurityTrustHtml(title)
        this.trust(rows)
      },
      error: (err) => { console.log(err) }
    })
    this.items.list().subscribe((rows) => {
      this.first = this.sanitizer.bypassSecurityTrustHtml(rows[0].description)
    })
  }

  trust (rows: any[]) {
    for (let i = 0; i < rows.length; i++) {
      rows[i].description = this.sanitizer.bypassSecurityTrustHtml(rows[i].description)
    }
  }
}
"""


def run(files: dict[str, str]) -> list[Flow]:
    return js_flows(files)


def test_api_data_reaching_unescaped_html_is_a_stored_flow() -> None:
    flows = run(
        {"src/app/services/item.service.ts": SERVICE, "src/app/items/items.component.ts": COMPONENT}
    )
    xss = {(f.sink_location.line, f.source_kind, f.source) for f in flows if f.claim == "xss"}
    # through the injected service, forkJoin's second position, the subscriber and a method
    assert (25, "database", "HttpClient.get") in xss
    # a plain subscribe callback
    assert (19, "database", "HttpClient.get") in xss
    # forkJoin keeps positions: the constant first element carries no API data
    assert not any(line == 13 for line, _, _ in xss)
    # stored data is its own source kind: no request-input finding
    assert not any(proves(f) for f in flows if f.claim == "xss")


def test_promise_all_keeps_positions() -> None:
    code = """\
    const db = require('./db')
    module.exports = async (req, res) => {
      const [a, b] = await Promise.all([Promise.resolve('x'), Promise.resolve(req.query.q)])
      db.query('SELECT ' + a)
      db.query('SELECT ' + b)
    }
    """
    flows = run({"app.js": code})
    assert {f.sink_location.line for f in flows if proves(f)} == {5}
