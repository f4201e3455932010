package org.eligo.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between the service and the test PostgreSQL that can be cut: while cut, new
 * connections are refused and open ones are reset, which is what the service sees when its
 * database stops or the network to it fails. {@link #restore()} listens again on the same port.
 * It can also be frozen: connections are still accepted and kept open, but no byte passes either
 * way until {@link #thaw()}, which is what the service sees of a database that hangs (a server
 * stopped with SIGSTOP, a network that drops packets).
 */
public final class DatabaseProxy {

    private static DatabaseProxy instance;

    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile ServerSocket listener;
    private final Object thawed = new Object();
    private boolean frozen;

    private DatabaseProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            this.port = probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        restore();
    }

    /** The one relay of this JVM, in front of the shared test database. */
    public static synchronized DatabaseProxy instance() {
        if (instance == null) {
            instance = new DatabaseProxy(EmbeddedPostgresResource.host(), EmbeddedPostgresResource.port());
        }
        return instance;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port + "/" + EmbeddedPostgresResource.database();
    }

    public synchronized void cut() {
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket socket : open) {
            close(socket);
        }
        open.clear();
    }

    /** From now on no byte passes until {@link #thaw()}; connections stay open and new ones are accepted. */
    public void freeze() {
        synchronized (thawed) {
            frozen = true;
        }
    }

    public void thaw() {
        synchronized (thawed) {
            frozen = false;
            thawed.notifyAll();
        }
    }

    private void awaitThawed() throws InterruptedException {
        synchronized (thawed) {
            while (frozen) {
                thawed.wait();
            }
        }
    }

    public synchronized void restore() {
        if (listener != null && !listener.isClosed()) {
            return;
        }
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("localhost", port));
            listener = socket;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ServerSocket accepting = listener;
        Thread acceptor = new Thread(() -> accept(accepting), "db-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept(ServerSocket accepting) {
        while (!accepting.isClosed()) {
            try {
                Socket client = accepting.accept();
                Socket server = new Socket(targetHost, targetPort);
                open.add(client);
                open.add(server);
                pump(client, server);
                pump(server, client);
            } catch (IOException e) {
                // the listener was closed (cut), or one connection failed: carry on or stop
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    awaitThawed();
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side went away
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                close(from);
                close(to);
                open.remove(from);
                open.remove(to);
            }
        }, "db-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private static void close(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
