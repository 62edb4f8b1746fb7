/* The guest-ABI probe: boot firmware/probe.elf in the real QEMU once per
 * 64-bit CPU model, accelerator and mte=on/off, and read back the MTE
 * registers it prints (or QEMU's refusal).  Boots run in parallel. */
#include "qemu_capabilities_priv.h"
#include "qemu_child.h"
#include "qemu_zygote.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_PREFIX "TAGVIRT-PROBE "
#define TAGS_PREFIX  "TAGVIRT-TAGS "

char *tv_guest_abi_firmware_path(const char *requested)
{
    g_autofree char *path = NULL;
    const char *env = g_getenv("TAGVIRT_FIRMWARE_DIR");
    g_autofree char *built = tv_paths_build_file("firmware/probe.elf");
    if (requested)
        path = g_strdup(requested);
    else if (env && *env)
        path = g_build_filename(env, "probe.elf", NULL);
    else if (built && g_file_test(built, G_FILE_TEST_IS_REGULAR))
        path = g_steal_pointer(&built);
    else
        path = g_strdup(TAGVIRT_DATADIR "/probe.elf");
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "guest-ABI probe firmware '%s' not found (build firmware/ with meson, "
                        "or point TAGVIRT_FIRMWARE_DIR at a folder with probe.elf)",
                        path);
        return NULL;
    }
    return g_steal_pointer(&path);
}

struct _TvGuestAbiQueue {
    GMutex lock;
    GPtrArray *boots; /* TvGuestAbiBoot * */
    bool closed;
    int wake[2]; /* a byte per push/close wakes the runner's poll */
};

TvGuestAbiQueue *tv_guest_abi_queue_new(void)
{
    TvGuestAbiQueue *q = g_new0(TvGuestAbiQueue, 1);
    g_mutex_init(&q->lock);
    q->boots = g_ptr_array_new_with_free_func((GDestroyNotify)tv_guest_abi_boot_free);
    if (pipe2(q->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        q->wake[0] = q->wake[1] = -1; /* the runner then polls every few ms */
    return q;
}

void tv_guest_abi_queue_free(TvGuestAbiQueue *q)
{
    if (!q)
        return;
    g_ptr_array_unref(q->boots);
    if (q->wake[0] >= 0) {
        close(q->wake[0]);
        close(q->wake[1]);
    }
    g_mutex_clear(&q->lock);
    g_free(q);
}

static void queue_wake(TvGuestAbiQueue *q)
{
    if (q->wake[1] >= 0)
        (void)!write(q->wake[1], "", 1);
}

void tv_guest_abi_queue_push_model(TvGuestAbiQueue *q, const char *model, TvAccel accel)
{
    g_mutex_lock(&q->lock);
    for (int mte = 1; mte >= 0; mte--) {
        TvGuestAbiBoot *b = g_new0(TvGuestAbiBoot, 1);
        b->cpu_model = g_strdup(model);
        b->accel = accel;
        b->mte = mte;
        g_ptr_array_add(q->boots, b);
    }
    g_mutex_unlock(&q->lock);
    queue_wake(q);
}

void tv_guest_abi_queue_close(TvGuestAbiQueue *q)
{
    g_mutex_lock(&q->lock);
    q->closed = true;
    g_mutex_unlock(&q->lock);
    queue_wake(q);
}

GPtrArray *tv_guest_abi_queue_boots(TvGuestAbiQueue *q)
{
    return q->boots;
}

/* The next boot to start, or NULL (*closed tells whether more can come). */
static TvGuestAbiBoot *queue_take(TvGuestAbiQueue *q, guint *next, bool *closed)
{
    g_mutex_lock(&q->lock);
    TvGuestAbiBoot *b = *next < q->boots->len ? q->boots->pdata[(*next)++] : NULL;
    *closed = q->closed && *next >= q->boots->len;
    g_mutex_unlock(&q->lock);
    return b;
}

typedef struct {
    TvGuestAbiBoot *boot;
    TvQemuChild child;
    gint64 deadline;
} BootSlot;

static char *boot_describe(const TvGuestAbiBoot *b)
{
    return g_strdup_printf("-cpu %s -accel %s with mte=%s%s", b->cpu_model,
                           tv_accel_to_string(b->accel), b->mte ? "on" : "off",
                           b->again ? " (repeated)" : "");
}

/* Queue the repeat of an mte=on boot whose CPU shows tag storage. */
static void queue_push_again(TvGuestAbiQueue *q, const TvGuestAbiBoot *first)
{
    TvGuestAbiBoot *b = g_new0(TvGuestAbiBoot, 1);
    b->cpu_model = g_strdup(first->cpu_model);
    b->accel = first->accel;
    b->mte = true;
    b->again = true;
    g_mutex_lock(&q->lock);
    g_ptr_array_add(q->boots, b);
    g_mutex_unlock(&q->lock);
}

/* Does the probe line show tag storage (MTE >= 2)? */
static bool line_shows_tag_storage(const char *text)
{
    unsigned long long pfr1 = 0;
    return sscanf(text, PROBE_PREFIX "PFR1=%16llx", &pfr1) == 1 && ((pfr1 >> 8) & 0xf) >= 2;
}

static int boot_start(BootSlot *slot, const char *binary, const char *firmware, unsigned timeout_ms,
                      TvQemuZygote *zygote)
{
    TvGuestAbiBoot *b = slot->boot;
    g_autofree char *machine = g_strdup_printf("virt,mte=%s", b->mte ? "on" : "off");
    const char *argv[] = { binary,
                           "-machine",
                           machine,
                           "-cpu",
                           b->cpu_model,
                           "-accel",
                           tv_accel_to_string(b->accel),
                           "-display",
                           "none",
                           "-nodefaults",
                           "-no-user-config",
                           "-serial",
                           "stdio",
                           "-kernel",
                           firmware,
                           NULL };
    slot->deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    if (tv_qemu_zygote_spawn(zygote, &slot->child, argv, false) < 0) {
        g_autofree char *what = boot_describe(b);
        tv_error_prefix("guest-ABI probe %s", what);
        return -1;
    }
    return 0;
}

/* The complete probe output (the TAGVIRT-PROBE line and the TAGVIRT-TAGS line
 * after it), or NULL while it is incomplete. */
static char *find_probe_line(const GString *out)
{
    const char *p = strstr(out->str, PROBE_PREFIX);
    if (!p)
        return NULL;
    const char *nl = strchr(p, '\n');
    if (!nl || !(nl = strchr(nl + 1, '\n')))
        return NULL;
    g_autofree char *lines = g_strndup(p, (gsize)(nl - p));
    g_strdelimit(lines, "\r", ' ');
    return g_strdup(g_strchomp(lines));
}

/* After the child ended (or printed its line): record the result. */
static int boot_finish(TvGuestAbiQueue *queue, BootSlot *slot, char *line)
{
    TvGuestAbiBoot *b = slot->boot;
    TvQemuChild *c = &slot->child;
    if (line) {
        b->text = line;
        b->done = true;
        if (b->mte && !b->again && line_shows_tag_storage(line))
            queue_push_again(queue, b);
        return 0;
    }
    g_autofree char *first = tv_qemu_child_first_error(c);
    g_autofree char *what = boot_describe(b);
    g_autofree char *status = tv_qemu_child_describe_status(c->status);
    if (WIFEXITED(c->status) && WEXITSTATUS(c->status) != 0 && first) {
        b->refused = true;
        b->text = g_steal_pointer(&first);
        b->done = true;
        return 0;
    }
    tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_OPERATION_FAILED,
                    "guest-ABI probe %s: QEMU %s without printing the probe line%s%s", what, status,
                    first ? ": " : "", first ? first : "");
    return -1;
}

int tv_guest_abi_run(const char *binary, const char *firmware, TvGuestAbiQueue *queue,
                     unsigned parallel, unsigned timeout_ms, TvQemuZygote *zygote)
{
    if (parallel == 0)
        parallel = 1;
    g_autofree BootSlot *slots = g_new0(BootSlot, parallel);
    g_autofree struct pollfd *fds = g_new0(struct pollfd, 3 * parallel + 1);
    guint next = 0;
    unsigned active = 0;
    bool drained = false;
    int rc = 0;

    while (rc == 0 && (!drained || active > 0)) {
        for (unsigned s = 0; s < parallel && !drained && rc == 0; s++) {
            if (slots[s].boot)
                continue;
            TvGuestAbiBoot *b = queue_take(queue, &next, &drained);
            if (!b)
                break;
            slots[s].boot = b;
            if (boot_start(&slots[s], binary, firmware, timeout_ms, zygote) < 0) {
                tv_qemu_child_clear(&slots[s].child);
                slots[s].boot = NULL;
                rc = -1;
                break;
            }
            active++;
        }
        if (rc < 0 || (drained && active == 0))
            break;

        nfds_t n = 0;
        gint64 now = g_get_monotonic_time(), first_deadline = now + 50 * 1000;
        if (queue->wake[0] >= 0 && !drained)
            fds[n++] = (struct pollfd){ .fd = queue->wake[0], .events = POLLIN };
        else if (!drained)
            first_deadline = now + 5 * 1000;
        for (unsigned s = 0; s < parallel; s++) {
            if (!slots[s].boot)
                continue;
            TvQemuChild *c = &slots[s].child;
            fds[n++] = (struct pollfd){ .fd = c->pidfd, .events = POLLIN };
            if (c->out_fd >= 0)
                fds[n++] = (struct pollfd){ .fd = c->out_fd, .events = POLLIN };
            if (c->err_fd >= 0)
                fds[n++] = (struct pollfd){ .fd = c->err_fd, .events = POLLIN };
            first_deadline = MIN(first_deadline, slots[s].deadline);
        }
        int ms = first_deadline > now ? (int)MIN((first_deadline - now + 999) / 1000, 60000) : 0;
        if (poll(fds, n, ms) < 0 && errno != EINTR) {
            tv_error_report_errno(TV_FROM_CAPABILITIES, errno, "poll failed in guest-ABI probe");
            rc = -1;
            break;
        }
        if (queue->wake[0] >= 0) {
            char buf[64];
            while (read(queue->wake[0], buf, sizeof(buf)) > 0)
                ;
        }
        /* a closed, empty queue is seen by queue_take; refresh it here too */
        if (!drained) {
            g_mutex_lock(&queue->lock);
            drained = queue->closed && next >= queue->boots->len;
            g_mutex_unlock(&queue->lock);
        }
        now = g_get_monotonic_time();
        for (unsigned s = 0; s < parallel && rc == 0; s++) {
            BootSlot *slot = &slots[s];
            if (!slot->boot)
                continue;
            TvQemuChild *c = &slot->child;
            tv_qemu_child_drain(c);
            char *line = find_probe_line(c->out);
            struct pollfd pfd = { .fd = c->pidfd, .events = POLLIN };
            bool exited = poll(&pfd, 1, 0) > 0;
            if (!line && !exited && now < slot->deadline)
                continue;
            if (!line && !exited) {
                g_autofree char *what = boot_describe(slot->boot);
                tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_OPERATION_TIMEOUT,
                                "guest-ABI probe %s: QEMU '%s' did not finish within %u ms", what,
                                binary, timeout_ms);
                rc = -1;
            }
            /* the line is all we need: no reason to wait for QEMU's own exit */
            tv_qemu_child_reap(c);
            guint queued = tv_guest_abi_queue_boots(queue)->len;
            if (rc == 0 && boot_finish(queue, slot, line) < 0)
                rc = -1;
            else if (tv_guest_abi_queue_boots(queue)->len != queued)
                drained = false; /* a repeat was queued */
            else if (rc < 0)
                g_free(line);
            tv_qemu_child_clear(c);
            slot->boot = NULL;
            active--;
        }
    }
    for (unsigned s = 0; s < parallel; s++) {
        if (slots[s].boot)
            tv_qemu_child_clear(&slots[s].child);
    }
    return rc;
}

/* "TAGVIRT-TAGS none", or "TAGVIRT-TAGS stored=1234 read=XXXX access=ok", or
 * "... access=fault esr=<16 hex>". */
static int parse_tags_line(const char *line, TvTagTest *t)
{
    static const char stored[] = TAGS_PREFIX "stored=1234 read=";
    if (g_str_equal(line, TAGS_PREFIX "none")) {
        t->result = TV_TAG_TEST_NONE;
        return 0;
    }
    if (!g_str_has_prefix(line, stored))
        return -1;
    const char *p = line + strlen(stored);
    for (int i = 0; i < 4; i++) {
        if (!g_ascii_isxdigit(p[i]) || g_ascii_isupper(p[i]))
            return -1;
        t->read[i] = p[i];
    }
    t->read[4] = '\0';
    p += 4;
    if (g_str_equal(p, " access=ok")) {
        t->fault = false;
    } else {
        unsigned long long esr = 0;
        int consumed = 0;
        if (sscanf(p, " access=fault esr=%16llx%n", &esr, &consumed) != 1 ||
            (size_t)consumed != strlen(p) || strlen(p) != strlen(" access=fault esr=") + 16)
            return -1;
        t->fault = true;
        t->esr = esr;
    }
    t->result = !t->fault && g_str_equal(t->read, "1234") ? TV_TAG_TEST_OK : TV_TAG_TEST_FAILED;
    return 0;
}

static int parse_probe_line(const TvGuestAbiBoot *b, TvGuestAbiResult *r)
{
    unsigned long long pfr1 = 0, pfr2 = 0;
    int consumed = 0;
    g_auto(GStrv) lines = g_strsplit(b->text, "\n", -1);
    const char *first = lines[0] ? lines[0] : "";
    g_autofree char *what = boot_describe(b);
    if (g_strv_length(lines) != 2 ||
        sscanf(first, PROBE_PREFIX "PFR1=%16llx PFR2=%16llx%n", &pfr1, &pfr2, &consumed) != 2 ||
        (size_t)consumed != strlen(first) ||
        strlen(first) != strlen(PROBE_PREFIX "PFR1=0123456789abcdef PFR2=0123456789abcdef")) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "guest-ABI probe %s: malformed probe line '%s' (expected '" PROBE_PREFIX
                        "PFR1=<16 hex digits> PFR2=<16 hex digits>' and a '" TAGS_PREFIX
                        "...' line)",
                        what, first);
        return -1;
    }
    r->pfr1 = pfr1;
    r->pfr2 = pfr2;
    tv_mte_abi_from_regs(r->pfr1, r->pfr2, &r->abi);
    if (parse_tags_line(lines[1], &r->tags) < 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "guest-ABI probe %s: malformed tag test line '%s' (expected '" TAGS_PREFIX
                        "none' or '" TAGS_PREFIX
                        "stored=1234 read=<4 hex digits> access=ok|fault esr=<16 hex digits>')",
                        what, lines[1]);
        return -1;
    }
    bool storage = tv_mte_abi_has_tag_storage(&r->abi);
    if (storage != (r->tags.result != TV_TAG_TEST_NONE)) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "guest-ABI probe %s: the registers show MTE %u but the tag test %s", what,
                        r->abi.mte, storage ? "did not run" : "ran");
        return -1;
    }
    return 0;
}

/* The first boot of the same model, accelerator and mte=on. */
static const TvGuestAbiBoot *find_first(GPtrArray *boots, const TvGuestAbiBoot *again)
{
    for (guint i = 0; i < boots->len; i++) {
        const TvGuestAbiBoot *b = boots->pdata[i];
        if (!b->again && b->mte && b->accel == again->accel &&
            g_str_equal(b->cpu_model, again->cpu_model))
            return b;
    }
    return NULL;
}

/* Every mte=on boot with tag storage was repeated and printed the same. */
static int check_repeats(GPtrArray *boots)
{
    for (guint i = 0; i < boots->len; i++) {
        const TvGuestAbiBoot *b = boots->pdata[i];
        if (!b->again)
            continue;
        const TvGuestAbiBoot *first = find_first(boots, b);
        if (!first || first->refused || !first->text || !line_shows_tag_storage(first->text)) {
            g_autofree char *what = boot_describe(b);
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                            "guest-ABI probe %s: a repeat without a first boot that showed tag "
                            "storage",
                            what);
            return -1;
        }
        if (b->refused || g_strcmp0(b->text, first->text) != 0) {
            g_autofree char *what = boot_describe(first);
            g_auto(GStrv) first_lines = g_strsplit(first->text, "\n", -1);
            g_auto(GStrv) lines = g_strsplit(b->text ? b->text : "", "\n", -1);
            g_autofree char *one = g_strjoinv(" / ", first_lines);
            g_autofree char *two = g_strjoinv(" / ", lines);
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_OPERATION_FAILED,
                            "the QEMU binary contradicts itself: two boots of %s printed '%s' "
                            "and then '%s'; its capabilities are not used or cached",
                            what, one, two);
            return -1;
        }
    }
    for (guint i = 0; i < boots->len; i++) {
        const TvGuestAbiBoot *b = boots->pdata[i];
        if (b->again || !b->mte || b->refused || !b->text || !line_shows_tag_storage(b->text))
            continue;
        bool repeated = false;
        for (guint j = 0; j < boots->len && !repeated; j++) {
            const TvGuestAbiBoot *r = boots->pdata[j];
            repeated = r->again && r->accel == b->accel && g_str_equal(r->cpu_model, b->cpu_model);
        }
        if (!repeated) {
            g_autofree char *what = boot_describe(b);
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                            "guest-ABI probe %s shows tag storage but has no repeated boot", what);
            return -1;
        }
    }
    return 0;
}

int tv_guest_abi_apply(TvQemuCaps *caps, GPtrArray *boots)
{
    g_autoptr(GArray) probes = g_array_new(FALSE, TRUE, sizeof(TvGuestAbiProbe));
    for (guint i = 0; i < boots->len; i++) {
        const TvGuestAbiBoot *b = boots->pdata[i];
        if (b->again)
            continue;
        TvGuestAbiProbe *p = NULL;
        for (guint j = 0; j < probes->len; j++) {
            TvGuestAbiProbe *q = &g_array_index(probes, TvGuestAbiProbe, j);
            if (q->accel == b->accel && g_str_equal(q->cpu_model, b->cpu_model))
                p = q;
        }
        if (!p) {
            TvGuestAbiProbe fresh = { .cpu_model = g_strdup(b->cpu_model), .accel = b->accel };
            g_array_append_val(probes, fresh);
            p = &g_array_index(probes, TvGuestAbiProbe, probes->len - 1);
        }
        TvGuestAbiResult *r = b->mte ? &p->mte_on : &p->mte_off;
        r->ran = true;
        if (b->refused) {
            r->refused = true;
            r->error = g_strdup(b->text);
        } else if (parse_probe_line(b, r) < 0) {
            caps->probes = (TvGuestAbiProbe *)g_array_steal(probes, &caps->nprobes);
            return -1;
        }
    }
    caps->probes = (TvGuestAbiProbe *)g_array_steal(probes, &caps->nprobes);
    return check_repeats(boots);
}
