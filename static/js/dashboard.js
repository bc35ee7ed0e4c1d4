// Dashboard: save the map as it is shown (layers, legend colours, outlines) as a PNG
// for a CLSPD slide deck. Everything is drawn from this page: no other host is asked.

/* global htmlToImage */

const button = document.getElementById("save-png");
const status = document.getElementById("save-status");
const text = JSON.parse(document.getElementById("save-text").textContent);

function withoutControls(node) {
  return !(node.classList && node.classList.contains("leaflet-control-container"));
}

button.addEventListener("click", async () => {
  const frame = document.querySelector(".map-frame");
  status.textContent = text.working;
  button.disabled = true;
  try {
    const url = await htmlToImage.toPng(frame, { filter: withoutControls, pixelRatio: 2, skipFonts: true });
    const link = document.createElement("a");
    link.href = url;
    link.download = text.file;
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = "";
  } catch (error) {
    status.textContent = text.failed;
  } finally {
    button.disabled = false;
  }
});
