using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Reasoner.Generation;
using Reasoner.Models.Backends;

namespace Reasoner.Tests.Http;

/// <summary>Generate:Server reaches the OpenAI-compatible client the generator builds, and bad values are refused by name.</summary>
public class ServerClientSettingsTests
{
    [Fact]
    public void EverySettingReachesTheClientOptions()
    {
        var settings = new ServerClientSettings { TimeoutSeconds = 7, MaxRetries = 0, RetryDelaySeconds = 0.5, MaxRetryDelaySeconds = 2, MaxConcurrentRequests = 3 };
        var options = settings.ToOptions(new Uri("http://127.0.0.1:8000"), "m");
        Assert.Equal((TimeSpan.FromSeconds(7), 0, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2), 3, "m"),
            (options.Timeout, options.MaxRetries, options.RetryDelay, options.MaxRetryDelay, options.MaxConcurrentRequests, options.Model));
        // The defaults are the client's own.
        var defaults = new ServerClientSettings().ToOptions(new Uri("http://127.0.0.1:8000"), null);
        var client = new OpenAiCompletionsOptions { BaseUrl = new Uri("http://127.0.0.1:8000") };
        Assert.Equal((client.Timeout, client.MaxRetries, client.RetryDelay, client.MaxRetryDelay, client.MaxConcurrentRequests),
            (defaults.Timeout, defaults.MaxRetries, defaults.RetryDelay, defaults.MaxRetryDelay, defaults.MaxConcurrentRequests));
    }

    [Theory]
    [InlineData(nameof(ServerClientSettings.TimeoutSeconds))]
    [InlineData(nameof(ServerClientSettings.MaxRetries))]
    [InlineData(nameof(ServerClientSettings.RetryDelaySeconds))]
    [InlineData(nameof(ServerClientSettings.MaxRetryDelaySeconds))]
    [InlineData(nameof(ServerClientSettings.MaxConcurrentRequests))]
    public void AValueOutOfRangeIsRefusedByItsSettingName(string name)
    {
        var settings = new ServerClientSettings();
        typeof(ServerClientSettings).GetProperty(name)!.SetValue(settings, name.EndsWith("Seconds") ? -1.0 : (object)-1);
        var error = Assert.Throws<ArgumentException>(() => settings.ToOptions(new Uri("http://127.0.0.1:8000"), null));
        Assert.Contains($"Generate:Server:{name}", error.Message);
    }

    [Fact]
    public async Task NoRetriesMeansARefusedConnectionFailsAtOnce()
    {
        // A port that refuses: bound, then released.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var model = (IDisposable)ModelBackends.Create($"http://127.0.0.1:{port}", "cpu", () => [], new ServerClientSettings { MaxRetries = 0 });
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<Exception>(() => ((ILanguageModel)model).CompleteAsync(new CompletionRequest("Q", 1, 4)));
        // The default (4 retries, backing off from 1 s) would wait at least 1 + 2 + 4 + 8 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed}");
    }
}
