// The search box on every page: Pagefind's UI over the index built with the site. No server needed.
window.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("search");
  if (!box || typeof PagefindUI === "undefined") return;
  new PagefindUI({
    element: "#search",
    baseUrl: box.dataset.base || "/",
    showSubResults: false,
    showImages: false,
    resetStyles: false,
    translations: { placeholder: box.dataset.label },
  });
});
