using System.Net;

namespace Reasoner.Cli.Serving;

/// <summary>The <c>--host</c> of Reasoner's servers (serve-model, view): where Kestrel listens, and the address to print for it.</summary>
static class ListenAddress
{
    /// <summary>An IP address or <c>localhost</c>; an <see cref="ArgumentException"/> names anything else.</summary>
    public static IPAddress Parse(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var ip) ? ip
        : throw new ArgumentException($"--host must be an IP address or localhost, not '{host}'");

    /// <summary>Whether only this machine can reach the address (a server without a key should stay there).</summary>
    public static bool IsLoopback(string host) => IPAddress.IsLoopback(Parse(host));

    /// <summary>A URL a client on this machine can use: a wildcard bind is reached on 127.0.0.1.</summary>
    public static string Reachable(IPAddress address, Uri bound) =>
        $"http://{(address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : bound.Host)}:{bound.Port}";
}
