/* The chosen theme, applied before the page paints (loaded without defer in <head>, so a dark
   page never flashes light). A file, not an inline script: the Content-Security-Policy allows
   scripts from this site only. */
try {
  var orchTheme = localStorage.getItem("orch-theme");
  if (orchTheme === "light" || orchTheme === "dark") document.documentElement.dataset.theme = orchTheme;
} catch (e) { /* storage disabled: the system theme applies */ }
