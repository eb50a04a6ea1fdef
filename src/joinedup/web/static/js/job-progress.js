// Job detail page: while the job is queued or running, poll /api/v1/jobs/{id} and update the
// status and progress in place. When it finishes, say so in a polite live region.
const updates = document.getElementById('job-updates')
const POLL_MS = 2000
const TAG_CLASSES = {
  queued: 'govuk-tag--grey',
  running: 'govuk-tag--blue',
  succeeded: 'govuk-tag--green',
  failed: 'govuk-tag--red'
}

function setStatus (status) {
  const tag = document.querySelector('[data-job-field="status"] .govuk-tag')
  if (!tag) return
  tag.className = `govuk-tag ${TAG_CLASSES[status] || 'govuk-tag--grey'}`
  tag.textContent = status.charAt(0).toUpperCase() + status.slice(1)
}

function setText (field, text) {
  const element = document.querySelector(`[data-job-field="${field}"]`)
  if (element) element.textContent = text
}

function announceFinished (status) {
  const paragraph = document.createElement('p')
  paragraph.className = 'govuk-body'
  const link = document.createElement('a')
  link.className = 'govuk-link'
  link.href = window.location.pathname
  link.textContent = 'Reload the page to see the details'
  paragraph.append(`This job has ${status}. `, link, '.')
  updates.replaceChildren(paragraph)
}

async function poll () {
  const jobId = updates.dataset.jobId
  let job
  try {
    const response = await fetch(`/api/v1/jobs/${encodeURIComponent(jobId)}`, {
      headers: { Accept: 'application/json' }
    })
    if (!response.ok) return
    job = await response.json()
  } catch {
    window.setTimeout(poll, POLL_MS * 5)
    return
  }
  setStatus(job.status)
  setText('progress', `${Math.round(job.progress * 100)}%`)
  setText('message', job.message ? ` – ${job.message}` : '')
  if (job.status === 'succeeded' || job.status === 'failed') {
    announceFinished(job.status)
  } else {
    window.setTimeout(poll, POLL_MS)
  }
}

if (updates && updates.dataset.jobFinished === 'false') {
  window.setTimeout(poll, POLL_MS)
}
