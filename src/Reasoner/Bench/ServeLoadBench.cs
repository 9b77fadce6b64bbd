using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Reasoner.Cli.Serving;
using Reasoner.Models.Backends;

namespace Reasoner.Cli.Bench;

/// <summary>One kind of request the load mixes in, and the statuses it may get.</summary>
sealed record LoadRequest(string Kind, string Json, HttpStatusCode[] Allowed);

/// <summary>What <c>bench serve</c> saw: answers by kind and status, latencies of the answered ones, memory, and whether the server stayed up.</summary>
sealed record ServeLoadResult(IReadOnlyDictionary<(string Kind, int Status), int> Counts, IReadOnlyList<double> ValidLatencyMs,
    long WarmRssBytes, long EndRssBytes, long PeakRssBytes, bool Healthy, int Unexpected, TimeSpan Elapsed);

/// <summary>
/// <c>bench serve</c>: many concurrent clients against <c>serve-model</c> on loopback, mixing valid requests with the
/// bad ones a careless client sends (n far past the limit, an empty prompt, a token limit past the context, broken
/// JSON). Only 200, 400 and 429 are acceptable answers; the server must stay up and its memory must not grow past a bound.
/// </summary>
static class ServeLoadBench
{
    public static IReadOnlyList<LoadRequest> Mix(int maxTokens) =>
    [
        new("valid", $$"""{"prompt": "Question: Zoe has 6 pencils. She buys 4 more pencils. How many pencils does Zoe have now?\nAnswer:", "n": 2, "max_tokens": {{maxTokens}}, "temperature": 1.0, "stop": ["\n"]}""",
            [HttpStatusCode.OK, HttpStatusCode.TooManyRequests]),
        new("valid", $$"""{"prompt": "Question: Eva has 3 apples. She sells 1. How many apples does Eva have now?\nAnswer:", "max_tokens": {{maxTokens}}, "logprobs": 1}""",
            [HttpStatusCode.OK, HttpStatusCode.TooManyRequests]),
        new("n past --max-n", """{"prompt": "x", "n": 100000}""", [HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests]),
        new("empty prompt", """{"prompt": "", "max_tokens": 4}""", [HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests]),
        new("past the context", """{"prompt": "x", "max_tokens": 100000000}""", [HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests]),
        new("broken JSON", """{"prompt": "x", "n": """, [HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests]),
    ];

    public static async Task<ServeLoadResult> RunAsync(ILanguageModel model, int clients, TimeSpan duration, int maxTokens, int maxQueued, Action<string> progress,
        CancellationToken cancel)
    {
        await using var server = await ModelServer.StartAsync(model, new ModelServerOptions { Port = 0, MaxQueuedRequests = maxQueued });
        var url = new Uri(server.BaseUrl, "/v1/completions");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { Timeout = TimeSpan.FromMinutes(5) };
        var mix = Mix(maxTokens);

        // Warm-up: the JIT, the engine's first forward passes and Kestrel's pools, before the memory baseline.
        progress("warming up");
        foreach (var request in mix) await SendAsync(http, url, request, cancel);
        var warm = PeakMemory.Reset();

        var counts = new ConcurrentDictionary<(string, int), int>();
        var latencies = new ConcurrentBag<double>();
        int unexpected = 0;
        var clock = Stopwatch.StartNew();
        using var end = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        end.CancelAfter(duration);
        var reporter = Task.Run(async () =>
        {
            while (!end.IsCancellationRequested)
            {
                try { await Task.Delay(2000, end.Token); } catch (OperationCanceledException) { break; }
                progress($"{clock.Elapsed.TotalSeconds:0} / {duration.TotalSeconds:0} s, {counts.Values.Sum()} answers");
            }
        });
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            while (!end.IsCancellationRequested)
            {
                // Two in three requests valid, the rest one of the bad kinds.
                var request = random.Next(3) < 2 ? mix[random.Next(2)] : mix[2 + random.Next(mix.Count - 2)];
                var started = Stopwatch.GetTimestamp();
                HttpStatusCode status;
                try { status = await SendAsync(http, url, request, cancel); }
                catch (HttpRequestException) { status = 0; }
                counts.AddOrUpdate((request.Kind, (int)status), 1, (_, c) => c + 1);
                if (!request.Allowed.Contains(status)) Interlocked.Increment(ref unexpected);
                else if (status == HttpStatusCode.OK) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })));
        clock.Stop();
        await reporter;
        var peak = PeakMemory.Since(warm) is { } rise ? warm + rise : 0;
        GC.Collect();
        var endRss = Process.GetCurrentProcess().WorkingSet64;
        bool healthy;
        try { healthy = (await http.GetAsync(new Uri(server.BaseUrl, "/health"), cancel)).IsSuccessStatusCode; }
        catch (HttpRequestException) { healthy = false; }
        return new ServeLoadResult(counts.ToDictionary(), [.. latencies.Order()], warm, endRss, peak, healthy, unexpected, clock.Elapsed);
    }

    static async Task<HttpStatusCode> SendAsync(HttpClient http, Uri url, LoadRequest request, CancellationToken cancel)
    {
        using var response = await http.PostAsync(url, new StringContent(request.Json, Encoding.UTF8, "application/json"), cancel);
        await response.Content.ReadAsByteArrayAsync(cancel);
        return response.StatusCode;
    }

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
