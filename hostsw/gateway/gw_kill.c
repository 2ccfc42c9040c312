/* SPDX-License-Identifier: MIT */
/* The gateway's kill switch: engaged by an operator, a signal (hedgetrig kill), a kill file or an overfill; it cancels
 * the open orders and refuses new ones until an operator rearms it. */
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "gw_priv.h"
#include "gw_process.h"

/* Kill signals received so far (the handler only counts; each gateway compares with the count it acted on), and
 * the pid that sent the last one. */
static volatile sig_atomic_t g_kill_signal;
static volatile sig_atomic_t g_kill_sender;

/* Engages the kill switch if the signal arrived or the kill file appeared. */
void gw_check_kill_sources(ht_gw *gw, uint64_t now, ht_gw_event *ev, int max, int *n)
{
    if (ht_risk_killed(gw->risk, NULL))
        return;
    char reason[256] = "";
    sig_atomic_t signals = g_kill_signal;
    if (signals != gw->kill_signals_seen) {
        gw->kill_signals_seen = signals;
        char said[160];
        int sender = (int)g_kill_sender;
        if (gw_take_kill_reason(gw->pid_path, said, sizeof said) == 0)
            snprintf(reason, sizeof reason, "kill signal from pid %d (hedgetrig kill): %s", sender,
                     said[0] ? said : "(no reason given)");
        else
            snprintf(reason, sizeof reason, "kill signal received from pid %d", sender);
    } else if (gw->cfg.kill_file[0] && now - gw->kill_check_ns >= 100000000u) {
        gw->kill_check_ns = now;
        FILE *f = fopen(gw->cfg.kill_file, "r");
        if (f) {
            char line[160] = "";
            if (!fgets(line, sizeof line, f))
                line[0] = '\0';
            fclose(f);
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(reason, sizeof reason, "kill file %.100s: %.90s", gw->cfg.kill_file, line[0] ? line : "(empty)");
        }
    }
    if (!reason[0])
        return;
    for (char *c = reason; *c; c++) /* a reason is one line of text in the log, whoever wrote it */
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    ht_gw_kill(gw, reason);
    ht_gw_event *e = gw_push_event(ev, max, n, HT_GW_EV_KILL);
    if (e) {
        const char *why = "";
        ht_risk_killed(gw->risk, &why);
        snprintf(e->text, sizeof e->text, "kill switch engaged: %s", why);
    }
}

void ht_gw_kill(ht_gw *gw, const char *reason)
{
    if (ht_risk_killed(gw->risk, NULL))
        return;
    ht_risk_kill(gw->risk, reason);
    unsigned sent = 0, open = 0;
    for (size_t i = 0; i < HT_GW_MAX_OPEN_ORDERS; i++) {
        if (!gw->orders[i].clordid)
            continue;
        open++;
        if (gw->state == HT_GW_ACTIVE && gw_send_cancel(gw, &gw->orders[i]) == 0)
            sent++;
    }
    gw_log(gw, "KILL SWITCH ENGAGED: %s; %u open orders, %u cancels sent; no new orders until rearmed", reason, open,
           sent);
    fprintf(stderr, "hedgetrig gateway: KILL SWITCH ENGAGED: %s; %u cancels sent; new orders are refused\n", reason, sent);
}

int ht_gw_rearm(ht_gw *gw, const char *who, ht_error *err)
{
    if (!ht_risk_killed(gw->risk, NULL))
        return 0;
    if (gw->cfg.kill_file[0] && access(gw->cfg.kill_file, F_OK) == 0)
        return ht_error_set(err, "kill switch stays engaged: the kill file %s still exists (remove it first)",
                            gw->cfg.kill_file);
    gw->kill_signals_seen = g_kill_signal; /* signals before this decision are answered */
    ht_risk_rearm(gw->risk);
    gw_armed_invalidate(gw); /* orders armed before the kill were refused by it since: the engine arms them anew */
    gw_log(gw, "KILL SWITCH REARMED by %s: new orders are accepted again", who && who[0] ? who : "(unnamed)");
    fprintf(stderr, "hedgetrig gateway: kill switch rearmed by %s\n", who && who[0] ? who : "(unnamed)");
    return 0;
}

bool ht_gw_killed(const ht_gw *gw)
{
    return ht_risk_killed(gw->risk, NULL);
}

/* The signal handler: only counts and notes the sender; ht_gw_poll acts. */
static void on_kill_signal(int signo, siginfo_t *info, void *context)
{
    (void)signo;
    (void)context;
    g_kill_sender = info ? (sig_atomic_t)info->si_pid : 0;
    if (g_kill_signal < INT_MAX / 2)
        g_kill_signal = g_kill_signal + 1;
}

int ht_gw_kill_on_signal(int signo)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_kill_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL);
}

