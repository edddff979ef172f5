// The search box on every page: Pagefind's UI over the index built with the site. No server needed.
// A big site's index comes in several bundles (pagefind-bundles.json lists them): merged here.
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("search");
  if (!box || typeof PagefindUI === "undefined") return;
  const base = box.dataset.base || "/";
  const start = (merge) => {
    const ui = new PagefindUI({
      element: "#search",
      baseUrl: base,
      showSubResults: false,
      showImages: false,
      resetStyles: false,
      translations: { placeholder: box.dataset.label },
      mergeIndex: merge.map((name) => ({ bundlePath: `${base}${name}/` })),
    });
    // A site of several languages has one index: the search starts within the page's language,
    // and unticking the language in the filters searches them all. Set when the reader starts
    // typing (before the first search, which waits for a pause): set while the UI still loads its
    // index, the filter could keep the filter panel from showing.
    const language = box.dataset.language;
    if (language) box.addEventListener("input", () => ui.triggerFilters({ language: [language] }), { once: true });
  };
  // Never a cached listing: after a rebuild with fewer bundles, a missing one would break every search.
  fetch(`${base}pagefind-bundles.json`, { cache: "no-cache" })
    .then((answer) => (answer.ok ? answer.json() : null))
    .catch(() => null)
    .then((listing) => {
      const merge = listing && Array.isArray(listing.merge) ? listing.merge : null;
      if (merge === null) console.warn("pagefind-bundles.json unreadable: searching the first bundle only");
      start(merge || []);
    });
});
