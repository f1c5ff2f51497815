// schedcli dashboard: countdowns, workers, and the job page's live state and buttons.
// Everything shown from job data goes through textContent, never innerHTML.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

async function api(method, path, body) {
  const options = {method, headers: {"X-CSRF-Token": csrf}, credentials: "same-origin"};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = {error: response.statusText}; }
  if (!response.ok) throw new Error(data && data.error ? data.error : response.statusText);
  return data;
}

function say(id, text, bad) {
  const element = document.getElementById(id);
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("problem", Boolean(bad));
}

function countdownText(seconds) {
  if (seconds <= 0) return "due";
  seconds = Math.round(seconds);
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  if (d) return `in ${d}d ${h}h`;
  if (h) return `in ${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `in ${m}m ${String(s).padStart(2, "0")}s`;
  return `in ${s}s`;
}

function tickCountdowns() {
  const now = Date.now() / 1000;
  for (const element of document.querySelectorAll("[data-due]")) {
    element.textContent = countdownText(Number(element.dataset.due) - now);
  }
}

async function loadWorkers() {
  const rows = document.getElementById("worker-rows");
  if (!rows) return;
  try {
    const workers = await api("GET", "/api/workers");
    rows.replaceChildren();
    if (!workers.length) {
      const row = rows.insertRow(), cell = row.insertCell();
      cell.colSpan = 3; cell.className = "empty";
      cell.textContent = "No worker answered. Start one with: schedcli worker start";
    }
    for (const worker of workers) {
      const row = rows.insertRow();
      for (const value of [worker.hostname, worker.concurrency, worker.active]) {
        row.insertCell().textContent = value === null ? "" : String(value);
      }
    }
  } catch (error) {
    rows.replaceChildren();
    const cell = rows.insertRow().insertCell();
    cell.colSpan = 3; cell.className = "problem"; cell.textContent = error.message;
  }
}

function followJob(section) {
  const id = section.dataset.jobId;
  const events = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  let shownState = document.getElementById("job-state").textContent;
  events.addEventListener("job", (event) => {
    const job = JSON.parse(event.data);
    const state = document.getElementById("job-state");
    state.textContent = job.state;
    state.className = `state state-${job.state.toLowerCase()}`;
    if (job.progress) {
      document.getElementById("progress-box").hidden = false;
      const bar = document.getElementById("job-progress");
      if (job.progress.total) { bar.max = job.progress.total; bar.value = job.progress.current; }
      let text = String(job.progress.current);
      if (job.progress.total) text += ` / ${job.progress.total}`;
      if (job.progress.step) text += ` · ${job.progress.step}`;
      document.getElementById("job-progress-text").textContent = text;
    }
    if (job.state !== shownState && ["SUCCESS", "FAILURE", "CANCELLED", "EXPIRED"].includes(job.state)) {
      events.close();
      window.location.reload();  // the page shows the result or traceback
    }
    shownState = job.state;
  });
  events.addEventListener("end", () => events.close());
}

function setUpJobPage(section) {
  const id = section.dataset.jobId;
  if (section.dataset.final !== "true") followJob(section);
  for (const button of section.querySelectorAll('[data-action="cancel"]')) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`, {terminate: button.dataset.terminate === "true"});
        say("action-message", "Cancelled.");
        window.location.reload();
      } catch (error) { say("action-message", error.message, true); button.disabled = false; }
    });
  }
  for (const button of section.querySelectorAll('[data-action="retry"]')) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const job = await api("GET", `/api/jobs/${encodeURIComponent(id)}`);
        const sent = await api("POST", "/api/jobs", {task: job.task, args: job.args, kwargs: job.kwargs, queue: job.queue});
        window.location.assign(`/jobs/${encodeURIComponent(sent.id)}`);
      } catch (error) { say("action-message", error.message, true); button.disabled = false; }
    });
  }
  const form = document.getElementById("reschedule-form");
  if (!form) return;
  const input = document.getElementById("reschedule-when");
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) { say("when-preview", ""); return; }
    timer = setTimeout(async () => {
      try {
        const when = await api("GET", `/api/when?expr=${encodeURIComponent(text)}`);
        const eta = new Date(when.eta);
        say("when-preview", `${when.eta.replace("T", " ").slice(0, 19)} ${when.timezone} (${countdownText((eta - Date.now()) / 1000)})`);
      } catch (error) { say("when-preview", error.message, true); }
    }, 200);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const moved = await api("POST", `/api/jobs/${encodeURIComponent(id)}/reschedule`, {at: input.value.trim()});
      window.location.assign(`/jobs/${encodeURIComponent(moved.id)}`);
    } catch (error) { say("action-message", error.message, true); }
  });
}

function setUpSchedules() {
  for (const button of document.querySelectorAll("[data-schedule-action]")) {
    button.addEventListener("click", async () => {
      const name = button.closest("[data-schedule]").dataset.schedule;
      const action = button.dataset.scheduleAction;
      button.disabled = true;
      try {
        const answer = await api("POST", `/api/schedules/${encodeURIComponent(name)}/${action}`);
        if (action === "run") {
          window.location.assign(`/jobs/${encodeURIComponent(answer.id)}`);
        } else {
          window.location.reload();
        }
      } catch (error) { say("schedule-message", `${name}: ${error.message}`, true); button.disabled = false; }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setUpSchedules();
  tickCountdowns();
  setInterval(tickCountdowns, 1000);
  loadWorkers();
  const section = document.getElementById("job");
  if (section) setUpJobPage(section);
  const report = document.querySelector('[data-action="run-report"]');
  if (report) {
    report.addEventListener("click", async () => {
      try {
        const job = await api("POST", "/api/reports", {});
        say("report-message", `Report job ${job.id.slice(0, 8)} queued; reload when it is done.`);
      } catch (error) { say("report-message", error.message, true); }
    });
  }
});
