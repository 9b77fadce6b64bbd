using System.Globalization;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using StackExchange.Redis;

namespace Reasoner.Generation.Queue;

/// <summary>
/// A work queue on a Redis stream, named <c>redis://HOST:PORT/NAME</c>: entries hold one problem each (field <c>problem</c>,
/// a JSON record in the "problems" shape); workers take them through the consumer group <see cref="Group"/>; entries that
/// failed too often go to the stream <c>NAME:dead</c> with their error.
/// </summary>
public sealed record RedisQueueAddress(string Host, int Port, string Name)
{
    public const string Scheme = "redis://";

    /// <summary>The consumer group every Reasoner worker joins.</summary>
    public const string Group = "reasoner";

    public const string ProblemField = "problem";

    public string DeadLetterStream => Name + ":dead";

    /// <summary>Last failure per entry id, so that a dead letter says why.</summary>
    public string ErrorsHash => Name + ":errors";

    public string Endpoint => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => $"{Scheme}{Endpoint}/{Name}";

    public static bool IsQueue(string spec) => spec.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads <c>redis://HOST:PORT/NAME</c> (port 6379 when left out); an <see cref="ArgumentException"/> says what is wrong.</summary>
    public static RedisQueueAddress Parse(string spec)
    {
        if (!IsQueue(spec) || !Uri.TryCreate(spec, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new ArgumentException($"'{spec}' is not a queue address: expected redis://HOST:PORT/NAME");
        var name = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (name.Length == 0 || name.Contains('/'))
            throw new ArgumentException($"'{spec}': the queue needs one name after the address, as in redis://127.0.0.1:6379/problems");
        return new RedisQueueAddress(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port, name);
    }
}

/// <summary>The queue's figures for <c>/status</c>: entries in the stream, entries taken but not acknowledged, consumers, entries not yet delivered, dead letters.</summary>
public sealed record QueueStatus(string Queue, long Length, long Pending, int Consumers, long? Lag, long DeadLetters, string? Error = null);

/// <summary>Connections and the commands the queue's users share: fill it, read its figures.</summary>
public static class RedisQueue
{
    /// <summary>
    /// Connects without failing when Redis is down: the multiplexer keeps reconnecting in the background (a restarted
    /// server is found again), and commands fail fast meanwhile so that callers can retry.
    /// </summary>
    public static Task<ConnectionMultiplexer> ConnectAsync(RedisQueueAddress address) =>
        ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { address.Endpoint },
            AbortOnConnectFail = false,
            ConnectRetry = 3,
            ConnectTimeout = 5000,
            SyncTimeout = 10000,
            AsyncTimeout = 10000,
            ReconnectRetryPolicy = new LinearRetry(500),
            ClientName = $"reasoner-{Environment.MachineName}-{Environment.ProcessId}",
        });

    /// <summary>Creates the consumer group (and the stream) when missing; a group that exists is left as it is.</summary>
    public static async Task EnsureGroupAsync(IDatabase db, RedisQueueAddress address)
    {
        try { await db.StreamCreateConsumerGroupAsync(address.Name, RedisQueueAddress.Group, StreamPosition.Beginning, createStream: true); }
        catch (RedisServerException e) when (e.Message.Contains("BUSYGROUP", StringComparison.Ordinal)) { }
    }

    /// <summary>Adds each problem as one entry; returns how many were added.</summary>
    public static async Task<int> EnqueueAsync(IDatabase db, RedisQueueAddress address, IEnumerable<Problem> problems, CancellationToken cancel = default)
    {
        await EnsureGroupAsync(db, address);
        int count = 0;
        foreach (var chunk in problems.Chunk(256))
        {
            cancel.ThrowIfCancellationRequested();
            var batch = db.CreateBatch();
            var adds = chunk.Select(p => batch.StreamAddAsync(address.Name, [new NameValueEntry(RedisQueueAddress.ProblemField, ProblemJsonl.Serialize(p))])).ToArray();
            batch.Execute();
            await Task.WhenAll(adds);
            count += chunk.Length;
        }
        return count;
    }

    public static async Task<QueueStatus> StatusAsync(IDatabase db, RedisQueueAddress address)
    {
        try
        {
            var length = await db.StreamLengthAsync(address.Name);
            var dead = await db.StreamLengthAsync(address.DeadLetterStream);
            var group = (await db.StreamGroupInfoAsync(address.Name)).FirstOrDefault(g => g.Name == RedisQueueAddress.Group);
            return new QueueStatus(address.ToString(), length, group.PendingMessageCount, group.ConsumerCount, group.Lag, dead);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new QueueStatus(address.ToString(), 0, 0, 0, null, 0, e.Message);
        }
    }
}
