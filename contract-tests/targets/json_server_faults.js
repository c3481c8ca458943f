// Faults planted in json-server 0.17 by a middleware (`json-server db.json --middlewares
// json_server_faults.js`), for the contract suite's list checks to catch on a server nobody here
// wrote. FAULTS (comma-separated):
//   page-skips          every page after the first starts one item too late
//   page-repeats        every page after the first starts one item too early
//   list-shows-deleted  the list still holds deleted posts
// json-server itself is left as it is; with no FAULTS the middleware changes nothing.
const faults = new Set((process.env.FAULTS || "").split(",").filter(Boolean));
const seen = new Map(); // post id -> the post as last answered
const deleted = new Map(); // post id -> the post as it was when deleted

module.exports = (req, res, next) => {
  const path = req.path.replace(/\/+$/, "");
  const page = parseInt(req.query._page, 10);
  if (path === "/posts" && req.method === "GET" && page > 1) {
    const limit = parseInt(req.query._limit, 10) || 10;
    const shift = faults.has("page-skips") ? 1 : faults.has("page-repeats") ? -1 : 0;
    if (shift !== 0) {
      // The same page asked for by its first and last index, shifted.
      delete req.query._page;
      req.query._start = String((page - 1) * limit + shift);
      req.query._end = String(page * limit + shift);
      delete req.query._limit;
    }
  }
  const item = path.match(/^\/posts\/(\d+)$/);
  if (item && req.method === "DELETE" && seen.has(item[1])) {
    deleted.set(item[1], seen.get(item[1]));
  }
  const jsonp = res.jsonp.bind(res);
  res.jsonp = (body) => {
    const remember = (p) => p && p.id !== undefined && seen.set(String(p.id), p);
    if (Array.isArray(body)) {
      body.forEach(remember);
      if (path === "/posts" && faults.has("list-shows-deleted")) {
        body = body.concat([...deleted.values()]);
      }
    } else {
      remember(body);
    }
    return jsonp(body);
  };
  next();
};
