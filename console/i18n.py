"""Every text of the console, Dutch and English, in one table. Dutch is the default.

`t(key, **values)` picks the reader's language (the sidebar's choice, kept in `st.session_state["lang"]`) and
fills `{placeholders}`. Texts are markdown; the values filled in are plain text (names and messages from Gripp and
SnelStart among them) and are escaped (`console.text.md`), so they show as written and never as markup. Words are
the ones Dutch bookkeepers use: openstaande posten, grootboek, BTW-tarief, administratie, koppelsleutel.
"""

from __future__ import annotations

import re

from console.text import md
from sync.core import fmt

LANGUAGES = {"nl": "Nederlands", "en": "English"}
DEFAULT = "nl"

TEXTS: dict[str, tuple[str, str]] = {
    # -- app ------------------------------------------------------------------------------------------------
    "language": ("Taal / Language", "Language / Taal"),
    "sandbox_note": ("ingebouwde simulatie van Gripp en SnelStart, geen echte gegevens",
                     "built-in simulation of Gripp and SnelStart, no real data"),
    "sandbox_short": ("oefenomgeving zonder echte gegevens", "practice environment without real data"),
    # -- sign-in --------------------------------------------------------------------------------------------
    "signin_title": ("Inloggen", "Sign in"),
    "signin_oidc": ("Inloggen met je organisatie-account", "Sign in with your organisation account"),
    "signin_name": ("Gebruikersnaam", "User name"),
    "signin_password": ("Wachtwoord", "Password"),
    "signin_button": ("Inloggen", "Sign in"),
    "signin_wrong": ("Gebruikersnaam of wachtwoord klopt niet.", "User name or password is wrong."),
    "signin_no_users": (
        "Er zijn geen gebruikers ingesteld. Zet ze in .streamlit/secrets.toml onder [users.NAAM] met "
        "password_hash (python -m sync hash-password) en role (support of finance).",
        "No users are configured. Add them to .streamlit/secrets.toml under [users.NAME] with password_hash "
        "(python -m sync hash-password) and role (support or finance)."),
    "signin_as": ("Ingelogd als", "Signed in as"),
    "signin_sandbox": ("Sandbox: zonder inloggen, alles toegestaan.", "Sandbox: no sign-in, everything allowed."),
    "signin_locked": ("Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw.",
                      "Too many failed attempts. Try again in {minutes} minutes."),
    "signin_wait": ("Even wachten: probeer het over {seconds} seconden opnieuw.",
                    "Please wait: try again in {seconds} seconds."),
    "signin_unavailable": ("Inloggen is nu niet mogelijk: de instellingen van de console zijn niet te lezen. Vraag "
                           "de beheerder om het te herstellen.",
                           "Signing in is not possible now: the console's settings cannot be read. Ask the "
                           "administrator to repair them."),
    "signin_changed": ("Je bent uitgelogd: je account is gewijzigd of verwijderd. Log opnieuw in.",
                       "You were signed out: your account was changed or removed. Sign in again."),
    "signin_no_role": ("Je bent ingelogd als {email}, maar dat account heeft geen rol in deze console. Vraag de "
                       "beheerder om je toe te voegen onder [roles].",
                       "You are signed in as {email}, but that account has no role in this console. Ask the "
                       "administrator to add you under [roles]."),
    "console_misconfigured": ("De console is niet goed ingesteld. De beheerder vindt de reden in het serverlog.",
                              "The console is not set up correctly. The administrator finds the reason in the "
                              "server log."),
    "signout": ("Uitloggen", "Sign out"),
    "not_allowed": ("Je rol mag dit niet.", "Your role may not do this."),
    "page_overview": ("Overzicht", "Overview"),
    "page_open_items": ("Openstaande posten", "Open items"),
    "page_linking": ("Koppelen", "Linking"),
    "page_checks": ("Controles", "Checks"),
    "page_sync": ("Synchronisatie", "Sync"),
    "page_accounts": ("Klanten", "Accounts"),
    "page_not_found": ("Pagina niet gevonden", "No such page"),
    "page_not_found_text": ("Het adres ‘/{name}’ hoort bij geen pagina die je hier kunt openen (een oude of verkeerd "
                            "getypte link, of een pagina die niet bij je rol hoort).",
                            "The address ‘/{name}’ is no page you can open here (an old or mistyped link, or a page "
                            "that is not for your role)."),
    "page_not_found_go": ("Naar de startpagina", "Go to the start page"),
    # -- accounts -------------------------------------------------------------------------------------------
    "accounts_title": ("Klanten", "Accounts"),
    "accounts_intro": ("Elke klant is een Gripp-account met zijn eigen identiteiten, koppelingen en synchronisaties. "
                       "Bovenaan staat wat een mens nodig heeft.",
                       "Each customer is a Gripp account with its own identities, links and syncs. What needs a "
                       "person comes first."),
    "accounts_search": ("Zoeken op naam of code", "Search by name or key"),
    "accounts_none": ("Geen klanten gevonden.", "No accounts found."),
    "accounts_none_granted": ("Je hebt nog geen toegang tot een klant. Vraag iemand van support om je toegang te "
                              "geven.", "You have no access to any account yet. Ask someone from support."),
    "accounts_not_yours": ("Je hebt geen toegang tot klant ‘{account}’.", "You have no access to account ‘{account}’."),
    "accounts_not_yours_go": ("Naar mijn klanten", "To my accounts"),
    "account_header": ("Klant: **{name}** ({key})", "Account: **{name}** ({key})"),
    "accounts_col_name": ("Klant", "Account"),
    "accounts_col_key": ("Code", "Key"),
    "accounts_col_need": ("Aandacht", "Needs"),
    "accounts_col_links": ("Koppelingen", "Links"),
    "accounts_col_invoices": ("Vastgelopen facturen", "Stuck invoices"),
    "accounts_col_alerts": ("Meldingen", "Alerts"),
    "accounts_col_last": ("Laatste synchronisatie", "Last sync"),
    "accounts_col_next": ("Volgende", "Next"),
    "accounts_col_open": ("Openen", "Open"),
    "need_broken": ("Koppeling verbroken", "Broken link"),
    "need_runs": ("Synchronisatie mislukt of achter", "Sync failed or overdue"),
    "need_invoices": ("Facturen vastgelopen", "Invoices stuck"),
    "need_alerts": ("Open meldingen", "Open alerts"),
    "need_not_linked": ("Nog niet gekoppeld", "Not linked yet"),
    "need_unchecked": ("Nog niet gecontroleerd", "Not checked yet"),
    "need_ok": ("In orde", "Fine"),
    "links_summary": ("{linked} van {identities} gekoppeld{broken}", "{linked} of {identities} linked{broken}"),
    "links_broken": (", {n} verbroken", ", {n} broken"),
    "links_unchecked": (", {n} nog niet gecontroleerd", ", {n} not checked yet"),
    "links_no_identities": ("Nog geen identiteiten", "No identities yet"),
    "accounts_open_label": ("Klant openen", "Open account"),
    "accounts_manage": ("Klanten beheren", "Manage accounts"),
    "accounts_add": ("Klant toevoegen", "Add account"),
    "accounts_key": ("Code (kleine letters, cijfers, streepjes)", "Key (lower-case letters, digits, dashes)"),
    "accounts_name": ("Naam", "Name"),
    "accounts_token": ("Gripp API-sleutel (Gripp › Instellingen › API)", "Gripp API key (Gripp › Settings › API)"),
    "accounts_added": ("Klant {name} toegevoegd: de sleutel werkt, {n} identiteiten gevonden.",
                       "Account {name} added: the key works, {n} identities found."),
    "accounts_added_one": ("Klant {name} toegevoegd: de sleutel werkt, 1 identiteit gevonden.",
                           "Account {name} added: the key works, 1 identity found."),
    "accounts_check": ("Controleren", "Check"),
    "accounts_checked": ("De Gripp-sleutel van {name} werkt; {n} identiteiten.",
                         "The Gripp key of {name} works; {n} identities."),
    "accounts_checked_one": ("De Gripp-sleutel van {name} werkt; 1 identiteit.",
                             "The Gripp key of {name} works; 1 identity."),
    "accounts_remove": ("Verwijderen", "Remove"),
    "accounts_remove_sure": ("Ja, haal {name} uit de console (de database blijft bewaard)",
                             "Yes, take {name} out of the console (its database is kept)"),
    "accounts_removed": ("Klant {name} verwijderd; de database blijft bewaard.",
                         "Account {name} removed; its database is kept."),
    "accounts_which": ("Klant", "Account"),
    "identity": ("Identiteit", "Identity"),
    "no_identities": ("Er zijn nog geen identiteiten. Haal ze onder Koppelen op uit Gripp.",
                      "There are no identities yet. Fetch them from Gripp under Linking."),
    "no_identities_here": ("Er zijn nog geen identiteiten. Haal ze hieronder op uit Gripp: ze staan op de facturen "
                           "en relaties daar. Heeft een identiteit nog geen factuur of relatie, voeg hem dan toe op "
                           "zijn id.",
                           "There are no identities yet. Fetch them from Gripp below: they are on its invoices and "
                           "companies. If an identity has no invoice or company yet, add it by its id."),
    "discover_identities": ("Identiteiten ophalen uit Gripp", "Fetch identities from Gripp"),
    "discover_identities_help": ("Leest de identiteiten van de facturen en relaties in Gripp (zoals `python -m sync "
                                 "identities discover`).",
                                 "Reads the identities off Gripp's invoices and companies (as `python -m sync "
                                 "identities discover` does)."),
    "identities_found": ("{n} identiteiten gevonden in Gripp: {names}.", "{n} identities found in Gripp: {names}."),
    "identities_found_one": ("1 identiteit gevonden in Gripp: {names}.", "1 identity found in Gripp: {names}."),
    "identities_none_new": ("Geen nieuwe identiteiten in Gripp; deze console kent ze alle {n}.",
                            "No new identities in Gripp; this console knows all {n}."),
    "identities_none_new_one": ("Geen nieuwe identiteiten in Gripp; deze console kent de enige al.",
                                "No new identities in Gripp; this console already knows the only one."),
    "identities_none_in_gripp": ("Gripp toont nog geen identiteiten: er is nog geen factuur of relatie. Voeg een "
                                 "identiteit toe op zijn id, of probeer het opnieuw als Gripp er een heeft.",
                                 "Gripp shows no identities yet: there is no invoice or company. Add an identity "
                                 "by its id, or try again once Gripp has one."),
    "administration": ("Administratie", "Administration"),
    "key": ("Koppelsleutel", "Koppelsleutel"),
    "last_run": ("Laatste synchronisatie", "Last sync"),
    "next_run": ("Volgende synchronisatie", "Next sync"),
    "never": ("nog nooit", "never"),
    "paused": ("gepauzeerd", "paused"),
    "not_planned": ("niet gepland", "not scheduled"),
    "every_minutes": ("elke {n} minuten", "every {n} minutes"),
    "every_minutes_one": ("elke minuut", "every minute"),
    "not_linked": ("Nog niet gekoppeld aan een SnelStart-administratie.",
                   "Not linked to a SnelStart administration yet."),
    "go_linking": ("Naar Koppelen", "Go to Linking"),
    "go_checks": ("Controles en proefrun", "Checks and dry run"),
    "go_sync": ("Naar Synchronisatie", "Go to Sync"),
    "all": ("Alle", "All"),
    "all_identities": ("Alle identiteiten", "All identities"),
    "open": ("Openen", "Open"),
    "search": ("Zoeken", "Search"),
    "save": ("Opslaan", "Save"),
    "refresh": ("Vernieuwen", "Refresh"),
    "add": ("Toevoegen", "Add"),
    # -- outcomes, health, triggers, levels -----------------------------------------------------------------
    "outcome_ok": ("gelukt", "succeeded"),
    "outcome_warnings": ("gelukt, met aandachtspunten", "succeeded, with warnings"),
    "outcome_failed": ("mislukt", "failed"),
    "outcome_running": ("bezig", "running"),
    "outcome_refused": ("niet gestart", "not started"),
    "health_ok": ("in orde", "healthy"),
    "health_broken": ("verbroken", "broken"),
    "health_unknown": ("nog niet gecontroleerd", "not checked yet"),
    "trigger_schedule": ("Automatisch", "Scheduled"),
    "trigger_manual": ("Handmatig", "Manual"),
    "trigger_cli": ("Opdrachtregel", "Command line"),
    "trigger_check": ("Controle", "Check"),
    "level_info": ("info", "info"),
    "level_warning": ("waarschuwing", "warning"),
    "level_error": ("fout", "error"),
    # -- counts ---------------------------------------------------------------------------------------------
    "count_booked": ("Geboekt", "Booked"),
    "count_booked_now": ("Nieuw geboekt", "Newly booked"),
    "count_adopted": ("Overgenomen", "Adopted"),
    "count_adopted_help": ("Stond al in SnelStart (bijvoorbeeld van de vorige koppeling): overgenomen, niet dubbel "
                           "geboekt.",
                           "Already in SnelStart (from the previous link, say): adopted, not booked twice."),
    "count_blocked": ("Geblokkeerd", "Blocked"),
    "count_failed": ("Geweigerd", "Refused"),
    "count_payments": ("Betalingen terug in Gripp", "Payments back in Gripp"),
    # -- overview -------------------------------------------------------------------------------------------
    "overview_title": ("Overzicht", "Overview"),
    "link_health": ("Koppeling", "Link"),
    "seen": ("Gezien", "Seen"),
    # -- open items -----------------------------------------------------------------------------------------
    "open_items_title": ("Openstaande posten: Gripp en SnelStart naast elkaar",
                         "Open items: Gripp and SnelStart side by side"),
    "open_items_as_of": ("Stand van de laatste synchronisatie ({when}).", "As of the last sync ({when})."),
    "open_items_never_synced": ("Nog niet gesynchroniseerd: alleen wat al in de database staat is te zien.",
                                "Not synced yet: only what is already in the database is shown."),
    "search_invoice_hint": ("factuurnummer of klant", "invoice number or customer"),
    "classes": ("Verschillen", "Differences"),
    "filter_classes": ("Toon", "Show"),
    "ageing": ("Ouderdom (openstaand bedrag)", "Ageing (open amount)"),
    "tab_all": ("Alle posten", "All items"),
    "tab_reminders": ("Voor je herinneringen verstuurt", "Before you send reminders"),
    "reminders_intro": (
        "Gripp verstuurt herinneringen op het openstaande saldo in Gripp. Kijk eerst wat SnelStart al als "
        "betaald ziet.",
        "Gripp sends reminders on the open balance in Gripp. First look at what SnelStart already shows as paid."),
    "do_not_remind": ("Niet herinneren: al betaald volgens SnelStart ({n})",
                      "Do not remind: already paid according to SnelStart ({n})"),
    "do_not_remind_help": (
        "Over de vervaldatum in Gripp, maar in SnelStart (deels) betaald. De betaling komt bij de volgende "
        "synchronisatie terug in Gripp.",
        "Overdue in Gripp, but (partly) paid in SnelStart. The payment comes back to Gripp with the next sync."),
    "check_before_reminding": ("Eerst nakijken: Gripp en SnelStart verschillen van bedrag ({n})",
                               "Check first: Gripp and SnelStart differ on the amount ({n})"),
    "check_before_reminding_help": (
        "Over de vervaldatum in Gripp, maar het totaal in SnelStart is een ander, of SnelStart heeft onder dit "
        "nummer een boeking die niet bij deze factuur hoort. Betalingen voor deze facturen worden aangehouden tot "
        "de bedragen kloppen: kijk ze na voordat je herinnert.",
        "Overdue in Gripp, but SnelStart's total is another, or SnelStart holds a booking with this number that is "
        "not this invoice's. Payments for these invoices are held until the amounts agree: check them before "
        "reminding."),
    "truly_overdue": ("Echt te laat ({n})", "Truly overdue ({n})"),
    "truly_overdue_help": ("Open in Gripp én in SnelStart en over de vervaldatum.",
                           "Open in Gripp and in SnelStart, and past the due date."),
    "rows_shown": ("{n} van {total} posten", "{n} of {total} items"),
    "rows_capped": ("De eerste {n} staan hieronder; zoek of filter voor de rest, of download ze allemaal als CSV.",
                    "The first {n} are below; search or filter for the rest, or download them all as CSV."),
    "download_csv": ("Download als CSV", "Download as CSV"),
    "col_class": ("Verschil", "Difference"),
    "col_count": ("Aantal", "Count"),
    "col_invoice": ("Factuur", "Invoice"),
    "col_customer": ("Klant", "Customer"),
    "col_gripp_date": ("Gripp factuurdatum", "Gripp invoice date"),
    "col_run": ("Run", "Run"),
    "col_gripp_due": ("Gripp vervaldatum", "Gripp due date"),
    "col_gripp_total": ("Gripp totaal", "Gripp total"),
    "col_gripp_open": ("Gripp open", "Gripp open"),
    "col_snelstart_due": ("SnelStart vervaldatum", "SnelStart due date"),
    "col_snelstart_total": ("SnelStart totaal", "SnelStart total"),
    "col_snelstart_open": ("SnelStart open", "SnelStart open"),
    "col_days_overdue": ("Dagen te laat", "Days overdue"),
    "col_reason": ("Reden", "Reason"),
    "col_age": ("Ouderdom", "Age"),
    "col_open_amount": ("Openstaand (€)", "Open (€)"),
    "class_conflict": ("Conflict: andere boeking met dit nummer", "Conflict: another booking with this number"),
    "class_not_booked": ("Nog niet geboekt", "Not booked yet"),
    "class_drift_deleted": ("Verwijderd in SnelStart", "Deleted in SnelStart"),
    "class_only_in_snelstart": ("Alleen in SnelStart", "Only in SnelStart"),
    "class_drift_changed": ("Gewijzigd in SnelStart", "Changed in SnelStart"),
    "class_amount_differs": ("Bedrag wijkt af", "Amount differs"),
    "class_payment_not_in_gripp": ("Betaling nog niet in Gripp", "Payment not in Gripp yet"),
    "class_paid_in_gripp_only": ("Alleen in Gripp betaald", "Paid in Gripp only"),
    "class_due_date_differs": ("Vervaldatum wijkt af", "Due date differs"),
    "class_in_sync": ("In orde", "In order"),
    "age_not_due": ("Nog niet vervallen", "Not due"),
    "age_0-30": ("0–30 dagen", "0–30 days"),
    "age_31-60": ("31–60 dagen", "31–60 days"),
    "age_61-90": ("61–90 dagen", "61–90 days"),
    "age_>90": ("> 90 dagen", "> 90 days"),
    # -- linking --------------------------------------------------------------------------------------------
    "link_title": ("Koppelen met SnelStart", "Link with SnelStart"),
    "add_identity": ("Identiteit toevoegen op id", "Add an identity by id"),
    "identity_id": ("Identiteit-id in Gripp", "Identity id in Gripp"),
    "identity_unknown": ("Identiteit {identity} bestaat niet in deze console; hieronder staat een andere. Voeg hem "
                         "toe onder Koppelen als hij in Gripp bestaat.",
                         "Identity {identity} does not exist in this console; another one is shown below. Add it "
                         "under Linking if it exists in Gripp."),
    "identity_unknown_here": ("Identiteit {identity} bestaat niet in deze console; hieronder staat een andere. "
                              "Bestaat hij in Gripp, haal hem dan hierboven op of voeg hem toe op id.",
                              "Identity {identity} does not exist in this console; another one is shown below. If "
                              "it exists in Gripp, fetch it above or add it by id."),
    "number_missing": ("Vul een getal in.", "Enter a number."),
    "number_range": ("Vul een geheel getal van {low} tot en met {high} in.",
                     "Enter a whole number from {low} to {high}."),
    "identity_name": ("Naam", "Name"),
    "identity_added": ("Identiteit ‘{name}’ toegevoegd.", "Identity ‘{name}’ added."),
    "linked_to": ("Gekoppeld aan administratie **{admin}** (koppelsleutel {key}) · {health} · boekt vanaf {start}",
                  "Linked to administration **{admin}** (koppelsleutel {key}) · {health} · books from {start}"),
    "step0": ("Stap 0 — Abonnement controleren", "Step 0 — Check the subscription"),
    "step0_help": ("Het SnelStart-abonnement moet koppelingen toestaan; de Gripp-sleutel moet facturen mogen lezen.",
                   "The SnelStart subscription must allow integrations; the Gripp token must be able to read "
                   "invoices."),
    "check_subscription": ("Controleren", "Check"),
    "step1": ("Stap 1 — Koppeling aanzetten", "Step 1 — Switch the link on"),
    "switch_on": ("SnelStart-koppeling aan voor deze identiteit", "SnelStart link on for this identity"),
    "step2": ("Stap 2 — Maatwerk key ophalen", "Step 2 — Fetch the Maatwerk key"),
    "step2_help": (
        "Je gaat naar SnelStart. Daar, ingelogd:\n\n"
        "1. Klik op **‘Een enkele administratie koppelen’**.\n"
        "2. Kies de administratie waaraan je wilt koppelen.\n"
        "3. Klik op **‘Koppel’**.\n\n"
        "Je komt daarna vanzelf hier terug; controleer de administratie en klik op **Opslaan**.",
        "You go to SnelStart. There, logged in:\n\n"
        "1. Click **‘Een enkele administratie koppelen’** (link a single administration).\n"
        "2. Choose the administration to link.\n"
        "3. Click **‘Koppel’** (link).\n\n"
        "You then come back here by yourself; check the administration and click **Save**."),
    "fetch_key": ("Maatwerk key ophalen", "Fetch Maatwerk key"),
    "open_snelstart": ("Naar SnelStart", "Go to SnelStart"),
    "activation_valid_until": ("Deze koppellink werkt tot {when}.", "This link works until {when}."),
    "key_received_unverified": ("SnelStart heeft de koppelsleutel ({key}) afgeleverd, maar was daarna even niet "
                                "bereikbaar om te zeggen welke administratie hij opent. Hij is bewaard; kies de "
                                "startdatum en klik op Opslaan, dan wordt hij eerst gecontroleerd.",
                                "SnelStart delivered the koppelsleutel ({key}) but could not be reached just after "
                                "to say which administration it opens. It is kept; choose the start date and click "
                                "Save, and it is checked first."),
    "key_received": ("SnelStart heeft de koppeling afgerond: administratie **{admin}** (koppelsleutel {key}). "
                     "Kies de startdatum en klik op Opslaan.",
                     "SnelStart finished the link: administration **{admin}** (koppelsleutel {key}). "
                     "Choose the start date and click Save."),
    "return_link_used": ("Deze terugkeerlink uit SnelStart is al gebruikt of verlopen; er hoeft niets meer te "
                         "gebeuren. Wil je opnieuw koppelen, haal dan de key opnieuw op.",
                         "This return link from SnelStart was already used or has expired; nothing more to do. "
                         "To link again, fetch the key again."),
    "return_link_unknown": ("Deze terugkeerlink hoort niet bij een koppelverzoek van deze identiteit. Haal de key "
                            "opnieuw op om te koppelen.",
                            "This return link does not belong to a link request of this identity. Fetch the key "
                            "again to link."),
    "key_not_received": ("Je bent terug uit SnelStart, maar de koppelsleutel is (nog) niet ontvangen. Vernieuw "
                         "over een paar seconden, of haal de key opnieuw op.",
                         "You are back from SnelStart, but the koppelsleutel has not arrived (yet). Refresh in a "
                         "few seconds, or fetch the key again."),
    "already_linked_elsewhere": ("Let op: deze administratie is al gekoppeld aan {names}.",
                                 "Note: this administration is already linked to {names}."),
    "confirm_shared": ("Ja, koppel deze administratie ook aan deze identiteit",
                       "Yes, link this administration to this identity too"),
    "step3": ("Stap 3 — Startdatum", "Step 3 — Start date"),
    "start_date": ("Boeken vanaf", "Book from"),
    "start_date_help": ("Verstuurde facturen vanaf deze datum gaan naar SnelStart. Kies de dag na de laatste factuur "
                        "die al in SnelStart staat.",
                        "Sent invoices from this date on go to SnelStart. Choose the day after the last invoice "
                        "already in SnelStart."),
    "link_saved": ("{name} is gekoppeld aan administratie ‘{admin}’ (koppelsleutel {key}).",
                   "{name} is linked to administration ‘{admin}’ (koppelsleutel {key})."),
    "paste_title": ("Of: koppelsleutel plakken", "Or: paste a koppelsleutel"),
    "paste_help": ("Kopieer de koppelsleutel in SnelStart via Koppelingen → tegel **Maatwerk** en plak hem hier. "
                   "Hij wordt gecontroleerd voordat er iets wordt opgeslagen.",
                   "Copy the koppelsleutel in SnelStart under Koppelingen → the **Maatwerk** tile and paste it here. "
                   "It is checked before anything is saved."),
    "koppelsleutel": ("Koppelsleutel", "Koppelsleutel"),
    "verify": ("Controleren", "Verify"),
    "key_opens": ("Deze koppelsleutel ({key}) opent administratie **{admin}**.",
                  "This koppelsleutel ({key}) opens administration **{admin}**."),
    "missing_scopes": ("Het abonnement mist rechten die de koppeling nodig heeft: {scopes}.",
                       "The subscription lacks rights the link needs: {scopes}."),
    "next_steps": ("Daarna", "Next"),
    "unlink_title": ("Ontkoppelen", "Unlink"),
    "unlink_help": ("De koppeling met ‘{admin}’ wordt verwijderd. Boekingen in SnelStart en de geschiedenis "
                    "blijven staan; er wordt niets meer gesynchroniseerd.",
                    "The link with ‘{admin}’ is removed. Bookings in SnelStart and the history stay; nothing is "
                    "synced any more."),
    "unlink_confirm": ("Ja, ontkoppel {name}", "Yes, unlink {name}"),
    "unlink": ("Ontkoppelen", "Unlink"),
    # -- checks ---------------------------------------------------------------------------------------------
    "checks_title": ("Controles", "Checks"),
    "run_checks": ("Alle controles uitvoeren", "Run all checks"),
    "checks_help": ("Wat support samen met de klant nagaat vóór de eerste synchronisatie.",
                    "What support goes through with the customer before the first sync."),
    "checks_passed": ("in orde", "passed"),
    "fix": ("Oplossing", "Fix"),
    "mappings_title": ("BTW-tarieven en grootboeken koppelen", "Map VAT rates and ledgers"),
    "accept_all": ("Alle {n} voorstellen overnemen", "Accept all {n} suggestions"),
    "accept_all_one": ("Het voorstel overnemen", "Accept the suggestion"),
    "vat_mapping": ("BTW-tarieven", "VAT rates"),
    "ledger_mapping": ("Grootboeken", "Ledgers"),
    "mapping_help": ("Per Gripp-tarief of -grootboek dat op facturen staat. Een voorstel neem je met één klik over.",
                     "Per Gripp rate or ledger used on invoices. Accept a suggestion with one click."),
    "gripp_vat": ("Gripp BTW-tarief", "Gripp VAT rate"),
    "gripp_ledger": ("Gripp grootboek", "Gripp ledger"),
    "snelstart_vat_kind": ("SnelStart BTW-soort", "SnelStart VAT kind"),
    "snelstart_ledger": ("SnelStart grootboek", "SnelStart ledger"),
    "current": ("nu", "now"),
    "not_mapped": ("niet gekoppeld", "not mapped"),
    "suggestion": ("Voorstel", "Suggestion"),
    "accept_suggestion": ("Voorstel overnemen", "Accept suggestion"),
    "mapping_saved": ("Opgeslagen. De controles na het opslaan:", "Saved. The checks after saving:"),
    "customer_mapping": ("Klantkoppeling", "Customer mapping"),
    "customer_mapping_help": (
        "Klanten die de koppeling niet eenduidig aan een SnelStart-relatie kan koppelen (de nummers of de naam "
        "wijzen naar verschillende relaties), en klanten die iemand heeft vastgelegd. Een vastlegging gaat voor "
        "alles: de facturen van die klant komen op die relatie.",
        "Customers the link cannot tie to one SnelStart relatie (their numbers or name point to different "
        "relaties), and customers someone pinned. A pin decides: that customer's invoices go to that relatie."),
    "no_customer_mappings_needed": ("Alle klanten worden eenduidig herkend; er is niets vast te leggen.",
                                    "Every customer is recognised unambiguously; there is nothing to pin."),
    "snelstart_relatie": ("SnelStart-relatie (soort Klant)", "SnelStart relatie (kind Klant)"),
    "not_pinned": ("niet vastgelegd", "not pinned"),
    "remove_pin": ("Vastlegging weghalen", "Remove pin"),
    "pin_removed": ("Vastlegging weggehaald: de facturen worden weer op hun nummers en naam herkend.",
                    "Pin removed: the invoices are recognised by their numbers and name again."),
    "customer_number": ("klantnummer {number}", "customer number {number}"),  # an identifier, no count
    "records_title": ("Conflicten en tegenstrijdige klantgegevens", "Conflicts and contradicting customer details"),
    "records_help": (
        "Facturen die de koppeling niet zelf boekt, omdat SnelStart onder hun nummer een boeking heeft die er niet "
        "bij past, of omdat de gegevens van de klant naar verschillende relaties wijzen. Er gaat niets naar "
        "SnelStart, er hangt geen PDF aan en er komen geen betalingen van terug tot iemand beslist.",
        "Invoices the link does not book by itself, because SnelStart holds a booking with their number that does "
        "not fit, or because the customer's details point to different relaties. Nothing goes to SnelStart, no "
        "PDF is attached and no payments come back until someone decides."),
    "no_records": ("Geen conflicten of tegenstrijdige klantgegevens.",
                   "No conflicts or contradicting customer details."),
    "no_records_before_sync": (
        "Nog niet gesynchroniseerd: facturen die op een beslissing wachten (conflicten, tegenstrijdige "
        "klantgegevens) komen hier na de eerste synchronisatie.",
        "Not synced yet: invoices that wait for a decision (conflicts, contradicting customer details) appear "
        "here after the first sync."),
    "records_in_dry_run": ("De laatste proefrun hieronder vond er {n} (tabbladen Conflict en Geblokkeerd).",
                           "The last dry run below found {n} (tabs Conflict and Blocked)."),
    "records_waiting": ("{n} facturen wachten op een beslissing (conflict of tegenstrijdige klantgegevens).",
                        "{n} invoices wait for a decision (conflict or contradicting customer details)."),
    "records_waiting_one": ("1 factuur wacht op een beslissing (conflict of tegenstrijdige klantgegevens).",
                            "1 invoice waits for a decision (conflict or contradicting customer details)."),
    "conflict_title": ("Conflict bij factuur {number}", "Conflict on invoice {number}"),
    "contradiction_title": ("Klantgegevens spreken elkaar tegen bij factuur {number}",
                            "Customer details contradict each other on invoice {number}"),
    "adopt_anyway": ("Toch overnemen", "Adopt anyway"),
    "conflict_fix_below": (
        "Is het toch deze factuur, kies dan hieronder ‘Toch overnemen’ (dit wordt vastgelegd met je naam). Is het een "
        "andere boeking, geef die in SnelStart een ander factuurnummer of crediteer hem: de volgende synchronisatie "
        "boekt deze factuur dan.",
        "If it is this invoice after all, choose ‘Adopt anyway’ below (this is recorded with your name). If it is "
        "another booking, give it another invoice number in SnelStart or credit it: the next sync then books this "
        "invoice."),
    "conflict_fix_ask_support": (
        "Is het toch deze factuur, vraag dan iemand van support om hier ‘Toch overnemen’ te kiezen. Is het een "
        "andere boeking, geef die in SnelStart een ander factuurnummer of crediteer hem: de volgende synchronisatie "
        "boekt deze factuur dan.",
        "If it is this invoice after all, ask someone from support to choose ‘Adopt anyway’ here. If it is another "
        "booking, give it another invoice number in SnelStart or credit it: the next sync then books this invoice."),
    "adopt_anyway_help": ("Alleen als je hebt nagekeken dat deze boeking bij de factuur hoort. Dit wordt vastgelegd "
                          "met je naam.",
                          "Only when you checked this booking belongs to the invoice. This is recorded with your "
                          "name."),
    "adopt_anyway_what": (
        "Toch overnemen: de boeking die SnelStart onder dit factuurnummer heeft, wordt de boeking van deze factuur, "
        "met het bedrag dat in SnelStart staat; er komt geen tweede boeking bij, alleen de PDF van de factuur. "
        "Zolang dat bedrag verschilt van het bedrag in Gripp, worden er geen betalingen overgezet (betalingen "
        "aangehouden) tot iemand een van beide rechtzet.",
        "Adopt anyway: the booking SnelStart holds under this invoice number becomes this invoice's booking, with "
        "the amount in SnelStart; no second booking is made, only the invoice's PDF is added. While that amount "
        "differs from the amount in Gripp, no payments are carried over (payments held) until someone corrects "
        "one of them."),
    "adopt_anyway_sure": ("Ja, neem de boeking in SnelStart over als die van factuur {number}, met het bedrag daar",
                          "Yes, take the booking in SnelStart as invoice {number}'s, with its amount there"),
    "adopted_anyway": ("Factuur {number} overgenomen; de PDF en de betalingen volgen bij de volgende synchronisatie.",
                       "Invoice {number} adopted; its PDF and payments follow with the next sync."),
    "pin_customer_below": ("Leg de klant vast onder Controles → Klantkoppeling.",
                           "Pin the customer under Checks → Customer mapping."),
    "count_conflicts": ("Conflicten", "Conflicts"),
    "no_mappings_needed": ("Er staan nog geen verstuurde facturen in de periode.",
                           "There are no sent invoices in the period yet."),
    "dry_run_title": ("Proefrun van de eerste synchronisatie", "Dry run of the first sync"),
    "dry_run_help": ("Doet alles behalve schrijven: wat zou worden geboekt, wat geblokkeerd blijft en waarom, en "
                     "welke betalingen terug zouden gaan naar Gripp.",
                     "Does everything except writing: what would be booked, what stays blocked and why, and which "
                     "payments would go back to Gripp."),
    "start_dry_run": ("Proefrun starten", "Start dry run"),
    "col_amount": ("Bedrag", "Amount"),
    "col_date": ("Datum", "Date"),
    "needs_link": ("Koppel deze identiteit eerst.", "Link this identity first."),
    # -- sync -----------------------------------------------------------------------------------------------
    "sync_title": ("Synchronisatie", "Sync"),
    "sync_now": ("Nu synchroniseren", "Sync now"),
    "sync_all": ("Alles synchroniseren", "Sync everything"),
    "sync_running": ("Synchroniseren: {name}", "Syncing: {name}"),
    "sync_all_running": ("Alles synchroniseren", "Syncing everything"),
    "sync_finished": ("Synchronisatie klaar", "Sync finished"),
    "sync_finished_with_errors": ("Synchronisatie klaar, met fouten", "Sync finished, with errors"),
    "sync_busy": ("Er loopt al een synchronisatie voor {name}; wacht tot die klaar is, de voortgang staat hieronder.",
                  "A sync for {name} is already running; wait until it has finished, its progress is shown below."),
    "sync_nothing_linked": ("Er is nog geen identiteit gekoppeld.", "No identity is linked yet."),
    "failed_waiting": ("{n} facturen zijn door SnelStart geweigerd. Los de oorzaak op (zie het log) en probeer ze "
                       "opnieuw.",
                       "{n} invoices were refused by SnelStart. Fix the cause (see the log) and retry them."),
    "failed_waiting_one": ("1 factuur is door SnelStart geweigerd. Los de oorzaak op (zie het log) en probeer hem "
                           "opnieuw.",
                           "1 invoice was refused by SnelStart. Fix the cause (see the log) and retry it."),
    "retry_failed": ("Mislukte opnieuw proberen", "Retry failed"),
    "retry_moved": ("{n} facturen worden opnieuw aangeboden.", "{n} invoices are offered again."),
    "retry_moved_one": ("1 factuur wordt opnieuw aangeboden.", "1 invoice is offered again."),
    "schedule": ("Planning", "Schedule"),
    "interval_minutes": ("Elke zoveel minuten", "Every so many minutes"),
    "save_interval": ("Interval opslaan", "Save interval"),
    "pause": ("Pauzeren", "Pause"),
    "resume": ("Hervatten", "Resume"),
    "run_history": ("Eerdere synchronisaties", "Run history"),
    "no_runs": ("Nog geen synchronisaties.", "No syncs yet."),
    "col_started": ("Gestart", "Started"),
    "col_identity": ("Identiteit", "Identity"),
    "col_trigger": ("Aanleiding", "Trigger"),
    "col_outcome": ("Uitkomst", "Outcome"),
    "col_summary": ("Samenvatting", "Summary"),
    "col_by": ("Door", "By"),
    "event_log": ("Logboek", "Event log"),
    "no_events": ("Geen meldingen die aan het filter voldoen.", "No events match the filter."),
    "col_time": ("Tijd", "Time"),
    "col_level": ("Niveau", "Level"),
    "col_kind": ("Soort", "Kind"),
    "col_message": ("Melding", "Message"),
    "col_open": ("Openen", "Open"),
    "search_log_hint": ("factuurnummer of tekst", "invoice number or text"),
    "errors_with_invoice": ("Fouten bij facturen", "Errors on invoices"),
    "download_log": ("Log downloaden (CSV)", "Download log (CSV)"),
    # -- widgets ------------------------------------------------------------------------------------------
    "choose": ("Maak een keuze", "Choose an option"),
    "choose_many": ("Kies een of meer", "Choose options"),
    "no_options": ("Geen keuzes", "No options"),
    # -- runs and dry runs -----------------------------------------------------------------------------------
    "run_summary_title": ("Wat de synchronisatie deed", "What the sync did"),
    "progress_title": ("Bezig", "In progress"),
    "preview_running": ("Proefrun: {name}", "Dry run: {name}"),
    "step_plan": ("Per factuur bepalen wat er zou gebeuren", "Deciding what would happen per invoice"),
    "dry_run_none": ("Nog geen proefrun voor deze identiteit. Start er een: er wordt niets geschreven.",
                     "No dry run for this identity yet. Start one: nothing is written."),
    "dry_run_of": ("Proefrun van {when}, door {who}: er is niets geschreven in Gripp of SnelStart.",
                   "Dry run of {when}, by {who}: nothing was written to Gripp or SnelStart."),
    "dry_run_accounts": ("Alle {n} verstuurde facturen van deze identiteit, elk precies één keer:",
                         "All {n} sent invoices of this identity, each exactly once:"),
    "dry_run_accounts_one": ("De enige verstuurde factuur van deze identiteit:",
                             "The one sent invoice of this identity:"),
    "dry_run_failed": ("De proefrun mislukte: {reason}", "The dry run failed: {reason}"),
    "decision_book": ("Zou worden geboekt", "Would be booked"),
    "decision_adopt": ("Staat al in SnelStart: overnemen", "Already in SnelStart: adopt"),
    "decision_blocked": ("Geblokkeerd", "Blocked"),
    "decision_conflict": ("Conflict: andere boeking met dit nummer in SnelStart",
                          "Conflict: another booking with this number in SnelStart"),
    "decision_refused": ("Geweigerd, wacht op opnieuw proberen", "Refused, waits for a retry"),
    "decision_nothing_to_book": ("Niets te boeken (€ 0,00)", "Nothing to book (€0.00)"),
    "decision_already_booked": ("Al geboekt", "Already booked"),
    "decision_before_start": ("Vóór de startdatum", "Before the start date"),
    "decision_payments": ("Betalingen terug naar Gripp", "Payments back to Gripp"),
    "decision_empty": ("Geen.", "None."),
    "fix_blocked": ("Zie de reden per factuur en start daarna de proefrun opnieuw.",
                    "See each invoice's reason, then start the dry run again."),
    "fix_blocked_mapping": ("BTW-tarief of grootboek: koppel het onder BTW-tarieven en grootboeken koppelen "
                            "hierboven.",
                            "VAT rate or ledger: map it under Map VAT rates and ledgers above."),
    "fix_blocked_customer": ("Klant: leg de klant vast onder Klantkoppeling hierboven, of corrigeer het klantnummer, "
                             "BTW- of KvK-nummer in Gripp of SnelStart.",
                             "Customer: pin the customer under Customer mapping above, or correct the customer, VAT "
                             "or KvK number in Gripp or SnelStart."),
    "fix_blocked_invoice": ("Factuurgegevens: corrigeer de factuur in Gripp.",
                            "Invoice details: correct the invoice in Gripp."),
    "fix_conflict": ("SnelStart heeft onder dit nummer al een andere boeking. Kijk na welke klopt; na de eerste "
                     "synchronisatie beslis je per factuur onder ‘Conflicten en tegenstrijdige klantgegevens’ "
                     "hierboven.",
                     "SnelStart already holds another booking under this number. Check which one is right; after the "
                     "first sync you decide per invoice under ‘Conflicts and contradicting customer details’ above."),
    "fix_refused": ("SnelStart weigerde deze facturen; de reden staat erbij. Los de oorzaak op en probeer ze opnieuw "
                    "onder Synchronisatie.",
                    "SnelStart refused these invoices; the reason is given. Fix the cause and retry them under Sync."),
    # -- overview: what needs a person ---------------------------------------------------------------------
    "attention_blocked": ("{n} facturen geblokkeerd: ze worden niet geboekt tot de oorzaak is opgelost.",
                          "{n} invoices blocked: they are not booked until the cause is fixed."),
    "attention_blocked_one": ("1 factuur geblokkeerd: die wordt niet geboekt tot de oorzaak is opgelost.",
                              "1 invoice blocked: it is not booked until the cause is fixed."),
    "attention_refused": ("{n} facturen geweigerd door SnelStart: los de oorzaak op en probeer ze opnieuw.",
                          "{n} invoices refused by SnelStart: fix the cause and retry them."),
    "attention_refused_one": ("1 factuur geweigerd door SnelStart: los de oorzaak op en probeer hem opnieuw.",
                              "1 invoice refused by SnelStart: fix the cause and retry it."),
    "attention_conflict": ("{n} facturen in conflict met een boeking in SnelStart.",
                           "{n} invoices in conflict with a booking in SnelStart."),
    "attention_conflict_one": ("1 factuur in conflict met een boeking in SnelStart.",
                               "1 invoice in conflict with a booking in SnelStart."),
    "go_fix_blocked": ("Bekijk en los op onder Controles", "See and fix them under Checks"),
    "go_fix_refused": ("Naar Synchronisatie om opnieuw te proberen", "Go to Sync to retry"),
    # -- open items before the first sync ------------------------------------------------------------------
    "open_items_empty": ("Er is nog niets te vergelijken: {name} is nog niet gesynchroniseerd. Synchroniseer nu om "
                         "de openstaande posten van Gripp en SnelStart naast elkaar te zien.",
                         "There is nothing to compare yet: {name} has not been synced. Sync now to see Gripp's and "
                         "SnelStart's open items side by side."),
    "open_items_fetched": ("{name} is nog niet gesynchroniseerd: hieronder staat alleen wat de controles of een "
                           "proefrun al ophaalden, er is nog niets geboekt. Synchroniseer nu om te boeken en beide "
                           "kanten bij te werken.",
                           "{name} has not been synced yet: below is only what the checks or a dry run fetched, "
                           "nothing is booked yet. Sync now to book and bring both sides up to date."),
    "open_items_not_linked": ("{name} is nog niet gekoppeld aan SnelStart: koppel eerst, dan synchroniseren.",
                              "{name} is not linked to SnelStart yet: link it first, then sync."),
    "no_rows": ("Geen posten die aan de zoekopdracht en het filter voldoen.", "No items match the search and filter."),
    "clear_search": ("Zoekopdracht wissen", "Clear the search"),
    # -- linking: identities and start date ----------------------------------------------------------------
    "identity_name_optional": ("Naam (leeg: de naam uit Gripp)", "Name (empty: the name in Gripp)"),
    "remove_identity": ("Identiteit verwijderen", "Remove identity"),
    "remove_identity_help": ("Verwijdert {name} uit de console (de geschiedenis blijft in het logboek). Alleen "
                             "mogelijk voor een identiteit die niet gekoppeld is.",
                             "Removes {name} from the console (the history stays in the log). Only possible for an "
                             "identity that is not linked."),
    "remove_identity_confirm": ("Ja, verwijder {name}", "Yes, remove {name}"),
    "identity_removed": ("Identiteit ‘{name}’ verwijderd.", "Identity ‘{name}’ removed."),
    "start_date_title": ("Startdatum", "Start date"),
    "start_date_suggested": ("Voorstel: {date} — de dag na {number} van {last}, de laatste factuur die al in "
                             "SnelStart staat.",
                             "Suggestion: {date} — the day after {number} of {last}, the last invoice already in "
                             "SnelStart."),
    "start_date_no_suggestion": ("Er staat nog geen factuur van deze identiteit in SnelStart; boek vanaf de eerste "
                                 "factuur die naar SnelStart moet.",
                                 "No invoice of this identity is in SnelStart yet; book from the first invoice that "
                                 "should go to SnelStart."),
    "use_suggestion": ("Voorstel gebruiken", "Use the suggestion"),
    "save_start_date": ("Startdatum opslaan", "Save start date"),
    "start_date_saved": ("Startdatum opgeslagen: boeken vanaf {date}.", "Start date saved: booking from {date}."),
    "start_date_ahead": ("Let op: de startdatum {date} ligt na vandaag; facturen van voor die dag worden niet "
                         "geboekt, en tot die dag dus geen enkele.",
                         "Note: the start date {date} is after today; invoices from before that day are not "
                         "booked, so none at all until then."),
    "start_date_linked": ("De startdatum van deze koppeling ({date}) wijzig je hieronder onder Startdatum.",
                          "Change this link's start date ({date}) below, under Start date."),
    "sync_now_first": ("Nu synchroniseren", "Sync now"),
}


def current_lang() -> str:
    """The reader's language: the sidebar's choice, else `?lang=` in the address (kept across reloads)."""
    try:
        import streamlit as st

        lang = st.session_state.get("lang") or st.query_params.get("lang", DEFAULT)
    except Exception:  # outside a Streamlit script run
        return DEFAULT
    return lang if lang in LANGUAGES else DEFAULT


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The text for `key` in `lang` (default: the reader's language), with `{placeholders}` filled with the values
    as text (escaped for markdown; numbers as they are)."""
    lang = lang or current_lang()
    count = values.get("n")
    if isinstance(count, int) and not isinstance(count, bool):  # a count: `1 factuur`, `2 facturen`
        if count == 1 and f"{key}_one" in TEXTS:
            key = f"{key}_one"
        values["n"] = fmt.count(count, lang)
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    if not values:
        return text
    # A name that ends a sentence with its own full stop (`Studio Noord B.V.`) gets no second one.
    text = _ONE_STOP.sub(lambda m: m[1] if str(values.get(m[1][1:-1], "")).endswith(".") else m[0], text)
    return text.format(**{name: md(v) if isinstance(v, str) else v for name, v in values.items()})


_ONE_STOP = re.compile(r"(\{\w+\})\.")


def class_label(name: str, lang: str | None = None) -> str:
    return t(f"class_{name}", lang)


def age_label(bucket: str, lang: str | None = None) -> str:
    return t(f"age_{bucket}", lang)


def outcome_label(outcome: str, lang: str | None = None) -> str:
    return t(f"outcome_{outcome}", lang) if f"outcome_{outcome}" in TEXTS else outcome


def health_label(health: str | None, lang: str | None = None) -> str:
    return t(f"health_{health or 'unknown'}", lang)


def trigger_label(trigger: str | None, lang: str | None = None) -> str:
    return t(f"trigger_{trigger}", lang) if f"trigger_{trigger}" in TEXTS else str(trigger or "")


def step_label(step: str | None, lang: str | None = None) -> str:
    from sync.jobs.runner import STEP_LABELS

    if step in STEP_LABELS:
        nl, en = STEP_LABELS[step]
        return en if (lang or current_lang()) == "en" else nl
    return {"start": t("outcome_running", lang), "done": t("sync_finished", lang),
            "plan": t("step_plan", lang)}.get(str(step), str(step or ""))


# Material icons (Streamlit ships their font), not emoji: they render the same on every machine.
ICONS = {
    "ok": ":green[:material/check_circle:]", "pass": ":green[:material/check_circle:]",
    "warnings": ":orange[:material/warning:]", "warning": ":orange[:material/warning:]",
    "failed": ":red[:material/error:]", "fail": ":red[:material/error:]", "broken": ":red[:material/link_off:]",
    "running": ":blue[:material/progress_activity:]", "refused": ":gray[:material/pause_circle:]",
    "unknown": ":gray[:material/help:]", "todo": ":gray[:material/radio_button_unchecked:]",
}


def icon(state: str | None) -> str:
    """A coloured icon for markdown (`:material/…:`) for an outcome, health or check status."""
    return ICONS.get(state or "unknown", ICONS["unknown"])


def check_icon(status: str) -> str:
    return icon(status)


def badge(kind: str, state: str | None, lang: str | None = None) -> str:
    """Icon and words for markdown: `badge("health", "broken")`."""
    label = outcome_label(state or "", lang) if kind == "outcome" else health_label(state, lang)
    return f"{icon(state)} {label}"


def run_badge(outcome: str, counts: dict | None, lang: str | None = None) -> str:
    """A run's icon and what it did: `gelukt`, `deels gelukt — 4 geblokkeerd`, `niets geboekt — 25 geblokkeerd`."""
    from sync.core.events import run_label, run_state

    return f"{icon(run_state(outcome, counts or {}))} {run_label(outcome, counts, lang or current_lang())}"

