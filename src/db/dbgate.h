/*
 * The connect gate: whether kore_pgsql may open a new connection.
 *
 * kore_pgsql connects synchronously, inside the worker's event loop. A
 * stopped database refuses at once, but a paused or unreachable one
 * (SIGSTOP, a blackholed network) lets the connect hang for the whole of
 * connect_timeout, and every request of the worker, cached redirects
 * included, waits with it. After one failed connect the gate therefore
 * stays closed, statements failing at once (a 503), until a connection
 * made in the background, without ever blocking, has succeeded.
 */
#ifndef DBGATE_H
#define DBGATE_H

/* 1 when kore_pgsql may be asked for a connection. */
int	db_connect_allowed(void);
/* A connect failed: closes the gate and starts probing. */
void	db_connect_failed(void);

#endif
