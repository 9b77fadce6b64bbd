using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Reasoner.Core.Datasets;
using StackExchange.Redis;

namespace Reasoner.Generation.Queue;

public sealed record RedisQueueOptions
{
    /// <summary>An entry taken but not acknowledged for this long is claimed by a live worker (XAUTOCLAIM): its worker died, or its search failed.</summary>
    public TimeSpan ClaimAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>An entry delivered this many times without a stored tree goes to the dead-letter stream on its next delivery.</summary>
    public int MaxDeliveries { get; init; } = 3;

    /// <summary>End when the queue holds nothing undelivered and nothing pending (generate); a service waits for more instead.</summary>
    public bool EndWhenDrained { get; init; }

    /// <summary>How often an idle worker looks for new entries (StackExchange.Redis does not block on XREADGROUP).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Entries taken per read; the pipeline's bounded problem channel holds them until a worker is free.</summary>
    public int Batch { get; init; } = 4;

    /// <summary>This process's name in the consumer group.</summary>
    public string Consumer { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    public void Validate()
    {
        if (ClaimAfter <= TimeSpan.Zero) throw new ArgumentException($"--claim-after must be positive, not {ClaimAfter.TotalSeconds} s");
        if (MaxDeliveries < 1) throw new ArgumentException($"--max-deliveries must be at least 1, not {MaxDeliveries}");
        if (Batch < 1) throw new ArgumentException("the queue batch must be at least 1");
    }
}

/// <summary>
/// Problems from a Redis stream through the consumer group <see cref="RedisQueueAddress.Group"/>, one consumer per process.
/// An entry is acknowledged only once its completed tree is stored and flushed (the pipeline settles it after the flush).
/// A failed search leaves the entry pending, its error recorded; after <see cref="RedisQueueOptions.ClaimAfter"/> a live
/// worker claims it again (XAUTOCLAIM), which is also how a dead worker's entries come back. An entry delivered more than
/// <see cref="RedisQueueOptions.MaxDeliveries"/> times, or one that holds no readable problem, moves to the dead-letter
/// stream with its error and is acknowledged. Delivery is at least once: readers keep the first completed tree per problem.
/// While Redis is unreachable the source waits and retries; the multiplexer reconnects on its own.
/// </summary>
public sealed class RedisQueueSource : IProblemSource, IAsyncDisposable
{
    readonly RedisQueueAddress address;
    readonly RedisQueueOptions options;
    readonly ILogger logger;
    readonly GenerationProgress progress;
    readonly ConcurrentQueue<RedisValue> toAcknowledge = new();
    readonly ConcurrentQueue<(RedisValue Id, string Error)> failures = new();
    ConnectionMultiplexer? connection;
    volatile QueueStatus? status;

    public RedisQueueSource(RedisQueueAddress address, RedisQueueOptions options, ILogger logger, GenerationProgress progress)
    {
        options.Validate();
        this.address = address;
        this.options = options;
        this.logger = logger;
        this.progress = progress;
    }

    public string Name => address.ToString();

    /// <summary>The queue's latest figures (refreshed as the source polls); null before the first.</summary>
    public QueueStatus? Status => status;

    public async IAsyncEnumerable<ProblemItem> ReadAsync([EnumeratorCancellation] CancellationToken cancel)
    {
        connection ??= await RedisQueue.ConnectAsync(address);
        var db = connection.GetDatabase();
        var cursor = StreamPosition.Beginning.ToString();
        var groupReady = false;
        var outage = false;
        var lastStatus = DateTime.MinValue;
        logger.LogInformation("taking problems from {Queue} as consumer {Consumer} of group {Group}", address, options.Consumer, RedisQueueAddress.Group);
        while (!cancel.IsCancellationRequested)
        {
            List<(StreamEntry Entry, bool Redelivered)> taken = [];
            var drained = false;
            try
            {
                if (!groupReady)
                {
                    await RedisQueue.EnsureGroupAsync(db, address);
                    groupReady = true;
                }
                await SettleAsync(db);
                // Entries idle past the claim time first: a dead worker's, or ones whose search failed here.
                var claimed = await db.StreamAutoClaimAsync(address.Name, RedisQueueAddress.Group, options.Consumer,
                    (long)options.ClaimAfter.TotalMilliseconds, cursor, options.Batch);
                cursor = claimed.NextStartId.IsNullOrEmpty ? StreamPosition.Beginning.ToString() : claimed.NextStartId.ToString();
                taken.AddRange(claimed.ClaimedEntries.Where(e => !e.IsNull).Select(e => (e, true)));
                if (taken.Count == 0)
                {
                    var fresh = await db.StreamReadGroupAsync(address.Name, RedisQueueAddress.Group, options.Consumer, StreamPosition.NewMessages, options.Batch);
                    taken.AddRange(fresh.Select(e => (e, false)));
                }
                if (DateTime.UtcNow - lastStatus > TimeSpan.FromSeconds(2) || taken.Count == 0)
                {
                    status = await RedisQueue.StatusAsync(db, address);
                    lastStatus = DateTime.UtcNow;
                }
                if (taken.Count == 0 && options.EndWhenDrained)
                    drained = status is { Error: null, Pending: 0 } s && (s.Lag ?? 0) == 0 && toAcknowledge.IsEmpty && failures.IsEmpty;
                if (outage)
                {
                    logger.LogInformation("the queue {Queue} is reachable again", address);
                    outage = false;
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                if (!outage) logger.LogWarning("the queue {Queue} is unreachable ({Reason}); retrying", address, e.Message);
                outage = true;
                // A restarted Redis without its data has no group: make it again once it answers.
                groupReady = false;
                await Delay(TimeSpan.FromSeconds(1), cancel);
                continue;
            }
            if (drained)
            {
                logger.LogInformation("the queue {Queue} is drained: nothing undelivered, nothing pending", address);
                yield break;
            }
            if (taken.Count == 0)
            {
                await Delay(options.PollInterval, cancel);
                continue;
            }
            foreach (var (entry, redelivered) in taken)
            {
                var item = await TakeAsync(db, entry, redelivered);
                if (item is not null) yield return item;
            }
        }
    }

    /// <summary>The entry's problem, or null when it went to the dead-letter stream instead.</summary>
    async Task<ProblemItem?> TakeAsync(IDatabase db, StreamEntry entry, bool redelivered)
    {
        var id = entry.Id.ToString();
        try
        {
            if (redelivered)
            {
                var pending = await db.StreamPendingMessagesAsync(address.Name, RedisQueueAddress.Group, 1, RedisValue.Null, entry.Id, entry.Id);
                int deliveries = pending.Length > 0 ? pending[0].DeliveryCount : 1;
                if (deliveries > options.MaxDeliveries)
                {
                    // This process's own failures may still be queued: record them first, so that the hash holds the last one.
                    await RecordFailuresAsync(db);
                    var error = (string?)await db.HashGetAsync(address.ErrorsHash, id);
                    await DeadLetterAsync(db, entry, $"no completed tree after {deliveries - 1} deliveries; last error: {error ?? "none recorded (a worker died?)"}");
                    return null;
                }
                logger.LogInformation("claimed entry {Id} of {Queue} (delivery {Delivery})", id, address, deliveries);
            }
            var json = entry[RedisQueueAddress.ProblemField];
            if (json.IsNullOrEmpty)
            {
                await DeadLetterAsync(db, entry, $"malformed entry: no '{RedisQueueAddress.ProblemField}' field");
                return null;
            }
            Core.Problems.Problem problem;
            try { problem = ProblemJsonl.Parse(json.ToString(), id.Replace('-', '_')); }
            catch (Exception e) when (e is not (RedisException or OperationCanceledException))
            {
                progress.AddInvalidLines(1);
                await DeadLetterAsync(db, entry, $"malformed problem: {e.Message}");
                return null;
            }
            var entryId = entry.Id;
            return new ProblemItem(problem,
                Settled: completed => { if (completed) toAcknowledge.Enqueue(entryId); },
                Failed: error => failures.Enqueue((entryId, error)));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The entry stays pending and comes back after the claim time.
            logger.LogWarning("could not take entry {Id} of {Queue}: {Reason}", id, address, e.Message);
            return null;
        }
    }

    async Task DeadLetterAsync(IDatabase db, StreamEntry entry, string error)
    {
        logger.LogWarning("entry {Id} of {Queue} goes to the dead-letter stream {Dead}: {Error}", entry.Id, address, address.DeadLetterStream, error);
        var fields = entry.Values.Where(v => v.Name != "error" && v.Name != "entry").Append(new NameValueEntry("entry", entry.Id)).Append(new NameValueEntry("error", error));
        await db.StreamAddAsync(address.DeadLetterStream, [.. fields]);
        await db.StreamAcknowledgeAsync(address.Name, RedisQueueAddress.Group, entry.Id);
        await db.HashDeleteAsync(address.ErrorsHash, entry.Id.ToString());
    }

    /// <summary>Acknowledges the entries whose trees are stored and flushed, and records failures; what fails stays queued for the next round.</summary>
    async Task SettleAsync(IDatabase db)
    {
        await RecordFailuresAsync(db);
        if (toAcknowledge.IsEmpty) return;
        var ids = new List<RedisValue>();
        while (toAcknowledge.TryDequeue(out var id)) ids.Add(id);
        try
        {
            await db.StreamAcknowledgeAsync(address.Name, RedisQueueAddress.Group, [.. ids]);
            await db.HashDeleteAsync(address.ErrorsHash, [.. ids]);
        }
        catch
        {
            foreach (var id in ids) toAcknowledge.Enqueue(id);
            throw;
        }
    }

    /// <summary>Each failed search's error into <c>NAME:errors</c> by entry id, where any worker that dead-letters the entry reads it.</summary>
    async Task RecordFailuresAsync(IDatabase db)
    {
        while (failures.TryPeek(out var failure))
        {
            await db.HashSetAsync(address.ErrorsHash, failure.Id.ToString(), failure.Error);
            failures.TryDequeue(out _);
        }
    }

    static async Task Delay(TimeSpan delay, CancellationToken cancel)
    {
        try { await Task.Delay(delay, cancel); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        // Acknowledge what was settled last, if Redis is there; what is not acknowledged is redelivered and skipped as stored.
        if (connection is { IsConnected: true })
        {
            try { await SettleAsync(connection.GetDatabase()); }
            catch (Exception e) when (e is RedisException or TimeoutException) { }
        }
        if (connection is not null) await connection.DisposeAsync();
    }
}
