/*
 * GET /metrics: the instance's metrics in Prometheus' text format,
 * rendered by obs/metrics.c from the memory all workers share, so any
 * worker answers for the whole instance. Meant for the monitoring
 * network only: the public proxy is to refuse /metrics.
 */

#include <stdlib.h>

#include <kore/kore.h>

#include "api/api.h"
#include "core/metricsfmt.h"
#include "http/respond.h"
#include "obs/metrics.h"

int
metrics_page(struct http_request *req, struct http_ctx *h)
{
	char	*text;
	size_t	 len;

	text = metrics_render(&len);
	respond_text(req, 200, METRICSFMT_CONTENT_TYPE, text, len);
	free(text);
	return (KORE_RESULT_OK);
}
