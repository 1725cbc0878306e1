// The record: run `audit verify` on the server and show its progress and outcome.
import { csrfToken } from "./common.js";

const button = document.getElementById("verify");
const bar = document.getElementById("verify-progress");
const result = document.getElementById("verify-result");

function render(job) {
  if (job.total) {
    bar.max = job.total;
    bar.value = job.done;
  }
  if (job.running) {
    result.dataset.state = "running";
    result.textContent = `Verifying ${job.stage || ""}: ${job.done}${job.total ? ` of ${job.total}` : ""}…`;
  } else if (job.result) {
    result.dataset.state = "ok";
    bar.max = 1;
    bar.value = 1;
    result.textContent = `Verified ${job.result.entries} entries, ${job.result.checkpoints_verified} checkpoints and ${job.result.rows_explained} rows; root ${job.result.root}.`;
  } else if (job.failure) {
    result.dataset.state = "failed";
    result.textContent = `Failed: ${job.failure}`;
  }
}

async function watch() {
  const answer = await fetch("/console/api/record/verify");
  if (!answer.ok) return;
  const job = await answer.json();
  render(job);
  if (job.running) setTimeout(watch, 200);
  else button.disabled = false;
}

button.addEventListener("click", async () => {
  button.disabled = true;
  const answer = await fetch("/console/api/record/verify", {
    method: "POST",
    headers: { "x-csrf-token": csrfToken() },
  });
  if (!answer.ok) {
    button.disabled = false;
    result.textContent = (await answer.json()).message;
    return;
  }
  render(await answer.json());
  watch();
});
