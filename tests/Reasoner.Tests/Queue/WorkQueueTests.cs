using System.Text.Json;
using Reasoner.Core.Storage;
using Reasoner.Core.Tasks;
using Reasoner.Core.Trees;
using Reasoner.Tests.Cli;
using StackExchange.Redis;

namespace Reasoner.Tests.Queue;

/// <summary>
/// Workers sharing a work queue on a real redis-server, as real processes: a worker killed with SIGKILL mid-search, Redis
/// restarted mid-run, a malformed entry. The searches run on the weight-free reference backend, slowed so that a kill lands mid-search.
/// </summary>
public sealed class WorkQueueTests : IDisposable
{
    readonly RedisServer redis = new();
    readonly string root = Directory.CreateTempSubdirectory("reasoner-queue-").FullName;

    public void Dispose()
    {
        redis.Dispose();
        Directory.Delete(root, recursive: true);
    }

    static string[] Worker(string queue, string run, int latencyMs) =>
        ["generate", "--source", queue, "--model", $"reference:0.2:{latencyMs}", "--out", run, "--workers", "2", "--claim-after", "2", "--iterations", "4"];

    /// <summary>Every completed tree the run's export holds, by problem id: a problem searched twice would show twice.</summary>
    static async Task<List<string>> ExportedProblemIds(string run)
    {
        var export = await CliRunner.Run("export", run, "--format", "trees", "--out", "-");
        Assert.True(export.ExitCode == 0, export.Err);
        return [.. export.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(t => t.GetProperty("status").GetString() == "completed")
            .Select(t => t.GetProperty("problem").GetProperty("id").GetString()!)];
    }

    async Task<string[]> EnqueueAsync(string queue, int problems)
    {
        var r = await CliRunner.Run("enqueue", "--queue", queue, "--source", "arith:test", "--problems", problems.ToString());
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        return [.. BuiltinTasks.TestSet(BuiltinTasks.Arith).Take(problems).Select(p => p.Id)];
    }

    [Fact]
    public async Task A_worker_killed_mid_search_loses_nothing_and_the_export_holds_every_problem_once()
    {
        var queue = redis.Queue("kill");
        var expected = await EnqueueAsync(queue, 12);
        var run = Path.Combine(root, "run");
        var db = redis.Connect(out var connection);
        using (connection)
        {
            // Two workers share the queue and the run folder; the slow one is mid-search, holding entries, when it dies.
            ReasonerProcess survivor;
            using (var doomed = ReasonerProcess.Start(Worker(queue, run, latencyMs: 400)))
            {
                var consumer = $"{Environment.MachineName}-{doomed.Id}";
                await doomed.WaitUntilAsync(() => db.StreamPendingMessages(RedisQueueName(queue), "reasoner", 10, consumer).Length >= 2, "the doomed worker took entries");
                survivor = ReasonerProcess.Start(Worker(queue, run, latencyMs: 20));
                await survivor.WaitUntilAsync(() => survivor.Log.Contains("taking problems from"), "the second worker joined");
                doomed.Signal("KILL");
                await doomed.ExitCodeAsync();
            }
            using var _ = survivor;
            Assert.True(await survivor.ExitCodeAsync() == 0, survivor.Log);
            Assert.Contains("claimed entry", survivor.Log);
            Assert.Equal(0, db.StreamPending(RedisQueueName(queue), "reasoner").PendingMessageCount);
        }
        var exported = await ExportedProblemIds(run);
        Assert.Equal(expected.Order(), exported.Order());
    }

    [Fact]
    public async Task Workers_reconnect_after_redis_restarts_and_nothing_is_lost()
    {
        var queue = redis.Queue("restart");
        var expected = await EnqueueAsync(queue, 8);
        var run = Path.Combine(root, "run");
        using var worker = ReasonerProcess.Start(Worker(queue, run, latencyMs: 150));
        await worker.WaitUntilAsync(() => worker.Log.Contains("searching the problems of"), "the worker started");
        await Task.Delay(1500);
        redis.Stop();
        await worker.WaitUntilAsync(() => worker.Log.Contains("is unreachable"), "the worker noticed the outage");
        redis.Start();
        Assert.True(await worker.ExitCodeAsync() == 0, worker.Log);
        Assert.Contains("reachable again", worker.Log);

        var exported = await ExportedProblemIds(run);
        Assert.Equal(expected.Order(), exported.Order());
        var db = redis.Connect(out var connection);
        using (connection) Assert.Equal(0, db.StreamPending(RedisQueueName(queue), "reasoner").PendingMessageCount);
    }

    [Fact]
    public async Task A_malformed_entry_goes_to_the_dead_letter_stream_and_the_run_goes_on()
    {
        var queue = redis.Queue("mixed");
        var db = redis.Connect(out var connection);
        using (connection)
        {
            db.StreamAdd("mixed", "problem", "{\"question\": \"no family, no answer\"}");
            var expected = await EnqueueAsync(queue, 3);
            db.StreamAdd("mixed", "something", "else");

            var r = await CliRunner.Run(Worker(queue, Path.Combine(root, "run"), latencyMs: 0));
            Assert.True(r.ExitCode == 0, r.Err + r.Out);
            Assert.Equal(expected.Order(), (await ExportedProblemIds(Path.Combine(root, "run"))).Order());

            var dead = db.StreamRange("mixed:dead");
            Assert.Equal(2, dead.Length);
            Assert.Contains("malformed problem", dead[0]["error"].ToString());
            Assert.Contains("no 'problem' field", dead[1]["error"].ToString());
            Assert.Equal(0, db.StreamPending("mixed", "reasoner").PendingMessageCount);
        }
    }

    [Fact]
    public async Task Serve_takes_from_the_queue_and_its_status_shows_the_queue()
    {
        var queue = redis.Queue("served");
        var expected = await EnqueueAsync(queue, 4);
        var run = Path.Combine(root, "served");
        using var serve = ReasonerProcess.Start(["serve", "--source", queue, "--model", "reference", "--out", run, "--port", "0", "--iterations", "4"]);
        var url = new Uri(await serve.UrlAsync());
        var db = redis.Connect(out var connection);
        using (connection)
        {
            await serve.WaitUntilAsync(() => db.StreamGroupInfo("served").Single().Lag == 0 && db.StreamPending("served", "reasoner").PendingMessageCount == 0,
                "the service took and acknowledged every entry");
        }
        using var http = new HttpClient();
        JsonElement status = default;
        await serve.WaitUntilAsync(() =>
        {
            status = JsonDocument.Parse(http.GetStringAsync(new Uri(url, "/status")).GetAwaiter().GetResult()).RootElement;
            return status.GetProperty("workQueues")[0].GetProperty("pending").GetInt64() == 0;
        }, "the status caught up");
        var figures = status.GetProperty("workQueues")[0];
        Assert.Equal(queue, figures.GetProperty("queue").GetString());
        Assert.Equal(4, figures.GetProperty("length").GetInt64());
        Assert.Equal(0, figures.GetProperty("lag").GetInt64());
        Assert.True(figures.GetProperty("consumers").GetInt32() >= 1);
        serve.Signal("TERM");
        Assert.Equal(0, await serve.ExitCodeAsync());
        Assert.Equal(expected.Order(), (await ExportedProblemIds(run)).Order());
    }

    [Fact]
    public async Task An_entry_whose_search_keeps_failing_goes_to_the_dead_letter_stream_with_its_error()
    {
        var address = global::Reasoner.Generation.Queue.RedisQueueAddress.Parse(redis.Queue("failing"));
        var db = redis.Connect(out var connection);
        using (connection)
        {
            await global::Reasoner.Generation.Queue.RedisQueue.EnqueueAsync(db, address, [SampleTrees.Empty("doomed").Problem]);
            var options = new global::Reasoner.Generation.Queue.RedisQueueOptions { ClaimAfter = TimeSpan.FromMilliseconds(300), MaxDeliveries = 2, EndWhenDrained = true, PollInterval = TimeSpan.FromMilliseconds(50) };
            await using var source = new global::Reasoner.Generation.Queue.RedisQueueSource(address, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new global::Reasoner.Generation.GenerationProgress());
            var deliveries = 0;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await foreach (var item in source.ReadAsync(timeout.Token))
            {
                deliveries++;
                // The search failed: the pipeline tells the source the error and settles the item as not completed.
                item.Failed!($"backend down (attempt {deliveries})");
                item.Settled!(false);
            }
            Assert.Equal(2, deliveries);
            var dead = Assert.Single(db.StreamRange("failing:dead"));
            Assert.Contains("after 2 deliveries", dead["error"].ToString());
            Assert.Contains("backend down (attempt 2)", dead["error"].ToString());
            Assert.Equal(0, db.StreamPending("failing", "reasoner").PendingMessageCount);
        }
    }

    [Fact]
    public void A_problem_stored_twice_is_read_once()
    {
        var run = Path.Combine(root, "dup");
        using (var first = TreeStore.Open(run))
        {
            first.Append(SampleTrees.Random(1, "a"));
            first.Append(SampleTrees.Empty("a", TreeStatus.Failed));
            first.Flush();
        }
        using (var second = TreeStore.Open(run))
        {
            second.Append(SampleTrees.Random(2, "a"));
            second.Append(SampleTrees.Random(3, "b"));
            second.Flush();
        }
        var trees = TreeStore.Open(run).ReadAll(_ => { }).ToList();
        Assert.Equal(["a", "b"], trees.Where(t => t.Status == TreeStatus.Completed).Select(t => t.Problem.Id).Order());
        Assert.Single(trees, t => t.Status == TreeStatus.Failed);
    }

    static RedisKey RedisQueueName(string queue) => queue[(queue.LastIndexOf('/') + 1)..];
}
