using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Reasoner.Cli.Serving;

/// <summary>
/// A token that fires when the client goes away while its request is being served. Kestrel's <c>RequestAborted</c> fires
/// on a reset connection, but not on a plain close (FIN): HTTP/1.1 allows a client to half-close and still read the
/// answer, so Kestrel waits. A client that gives up closes its socket; a generation for it should stop, so the socket is
/// watched too: readable with nothing to read means the peer has closed.
/// </summary>
static class ClientDisconnect
{
    static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);

    public static CancellationTokenSource Watch(HttpContext http)
    {
        var gone = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        if (http.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket) return gone;
        _ = Task.Run(async () =>
        {
            try
            {
                while (!gone.IsCancellationRequested)
                {
                    await Task.Delay(Every, gone.Token);
                    if (socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0)
                    {
                        gone.Cancel();
                        return;
                    }
                }
            }
            catch (OperationCanceledException) { }
            catch (ObjectDisposedException) { }
            catch (SocketException) { gone.Cancel(); }
        });
        return gone;
    }
}
