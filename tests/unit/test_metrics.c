/* test_metrics.c -- the Prometheus page: one line per label set counted, status and method in
 * the labels, label values escaped, fault counters apart from request counters, gauges after
 * them, more label sets than hash buckets, reset, and counts from several threads adding up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static char *render(struct metrics *m, const struct metrics_gauge *g, size_t ng)
{
    size_t len = 0;
    char *page = metrics_render(m, g, ng, &len);

    assert_non_null(page);
    assert_int_equal(len, strlen(page));
    return page;
}

static int lines_with(const char *page, const char *needle)
{
    int n = 0;

    for (const char *p = page; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_counts_and_labels(void **state)
{
    struct metrics *m;
    char *page;

    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    metrics_count(m, "rasl", "GET", "/contacts/{id}", 200, "demo");
    metrics_count(m, "rasl", "GET", "/contacts/{id}", 200, "demo");
    metrics_count(m, "rasl", "GET", "/contacts/{id}", 404, "demo");
    metrics_count(m, "rasl", "POST", "/contacts/{id}", 200, "demo");
    metrics_count(m, "admin", "GET", "-", 404, "");
    metrics_fault(m, "slow");
    metrics_fault(m, "slow");
    page = render(m, NULL, 0);
    assert_non_null(strstr(page, "# TYPE understudy_requests_total counter\n"));
    assert_non_null(strstr(page, "understudy_requests_total{vendor=\"rasl\",route=\"GET "
                                 "/contacts/{id}\",status=\"200\",tenant=\"demo\"} 2\n"));
    assert_non_null(strstr(page, "understudy_requests_total{vendor=\"rasl\",route=\"GET "
                                 "/contacts/{id}\",status=\"404\",tenant=\"demo\"} 1\n"));
    assert_non_null(strstr(page, "route=\"POST /contacts/{id}\",status=\"200\""));
    assert_non_null(
        strstr(page, "{vendor=\"admin\",route=\"GET -\",status=\"404\",tenant=\"\"} 1\n"));
    assert_int_equal(lines_with(page, "understudy_requests_total{"), 4);
    assert_non_null(strstr(page, "# TYPE understudy_injected_faults_total counter\n"
                                 "understudy_injected_faults_total{scenario=\"slow\"} 2\n"));
    /* the fault section comes after every request line */
    assert_true(strstr(page, "injected_faults_total{") > strstr(page, "tenant=\"\"} 1"));
    free(page);
    metrics_reset(m);
    page = render(m, NULL, 0);
    assert_int_equal(lines_with(page, "_total{"), 0);
    assert_int_equal(lines_with(page, "# TYPE"), 2);
    free(page);
    metrics_free(m);
    metrics_free(NULL);
}

static void test_escaping(void **state)
{
    struct metrics *m;
    char *page;

    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    metrics_count(m, "v", "GET", "/a\"b\\c", 500, "t\nx");
    metrics_fault(m, "q\"s");
    page = render(m, NULL, 0);
    assert_non_null(strstr(page, "route=\"GET /a\\\"b\\\\c\",status=\"500\",tenant=\"t x\"} 1\n"));
    assert_non_null(strstr(page, "{scenario=\"q\\\"s\"} 1\n"));
    free(page);
    metrics_free(m);
}

static void test_gauges(void **state)
{
    const struct metrics_gauge g[] = {
        {"understudy_store_bytes", "Bytes used.", 0, 4096},
        {"understudy_webhooks_sent_total", "Deliveries.", 1, 18446744073709551615ULL},
    };
    struct metrics *m;
    char *page;

    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    page = render(m, g, 2);
    assert_non_null(strstr(page, "# HELP understudy_store_bytes Bytes used.\n"
                                 "# TYPE understudy_store_bytes gauge\n"
                                 "understudy_store_bytes 4096\n"
                                 "# HELP understudy_webhooks_sent_total Deliveries.\n"
                                 "# TYPE understudy_webhooks_sent_total counter\n"
                                 "understudy_webhooks_sent_total 18446744073709551615\n"));
    assert_int_equal(page[strlen(page) - 1], '\n');
    free(page);
    page = render(m, g, 1);
    assert_null(strstr(page, "webhooks_sent"));
    free(page);
    metrics_free(m);
}

static void test_many_label_sets(void **state)
{
    struct metrics *m;
    char tenant[32], want[128], *page;

    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            snprintf(tenant, sizeof(tenant), "t%d", i);
            metrics_count(m, "guayaba", "GET", "/x", 200, tenant);
        }
    page = render(m, NULL, 0); /* grows well past its first 4096 bytes */
    assert_int_equal(lines_with(page, "understudy_requests_total{"), 1000);
    assert_int_equal(lines_with(page, "\"} 3\n"), 1000);
    snprintf(want, sizeof(want), "tenant=\"t999\"} 3\n");
    assert_non_null(strstr(page, want));
    free(page);
    metrics_free(m);
}

static void *hammer(void *arg)
{
    for (int i = 0; i < 2000; i++) {
        metrics_count(arg, "rasl", "GET", "/a", 200, i % 2 ? "odd" : "even");
        if (i % 100 == 0)
            metrics_fault(arg, "s");
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t th[4];
    struct metrics *m;
    char *page;

    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, m), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    page = render(m, NULL, 0);
    assert_non_null(strstr(page, "tenant=\"odd\"} 4000\n"));
    assert_non_null(strstr(page, "tenant=\"even\"} 4000\n"));
    assert_non_null(strstr(page, "{scenario=\"s\"} 80\n"));
    free(page);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_labels),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_many_label_sets),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
