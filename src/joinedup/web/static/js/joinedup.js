// Starts the GOV.UK Frontend and MOJ Frontend components on every page.
// Loaded as a module from our own origin, so it needs no inline script.
import { initAll as initGovukFrontend } from '../vendor/govuk/govuk-frontend.min.js'
import { initAll as initMojFrontend } from '../vendor/moj/moj-frontend.min.js'

initGovukFrontend()
initMojFrontend()
