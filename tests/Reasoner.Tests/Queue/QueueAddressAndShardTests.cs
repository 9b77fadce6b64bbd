using Reasoner.Generation;
using Reasoner.Generation.Queue;

namespace Reasoner.Tests.Queue;

public class QueueAddressAndShardTests
{
    [Theory]
    [InlineData("redis://127.0.0.1:6380/problems", "127.0.0.1", 6380, "problems")]
    [InlineData("redis://queue.internal/gsm8k-round-2", "queue.internal", 6379, "gsm8k-round-2")]
    public void A_queue_address_names_host_port_and_stream(string spec, string host, int port, string name)
    {
        var address = RedisQueueAddress.Parse(spec);
        Assert.Equal((host, port, name), (address.Host, address.Port, address.Name));
        Assert.Equal(name + ":dead", address.DeadLetterStream);
    }

    [Theory]
    [InlineData("redis://127.0.0.1:6379")]
    [InlineData("redis://127.0.0.1:6379/a/b")]
    [InlineData("http://127.0.0.1:6379/q")]
    public void A_bad_queue_address_says_what_is_expected(string spec) =>
        Assert.Contains("redis://", Assert.Throws<ArgumentException>(() => RedisQueueAddress.Parse(spec)).Message);

    static Func<string, string?> Env(params (string Name, string Value)[] vars) => name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Shard_auto_reads_a_kubernetes_indexed_job() =>
        Assert.Equal(new Shard(3, 8), Shard.Parse("auto", Env(("JOB_COMPLETION_INDEX", "3"), (Shard.KubernetesCountVariable, "8"))));

    [Fact]
    public void Shard_auto_reads_a_slurm_array_from_its_first_task() =>
        Assert.Equal(new Shard(2, 4), Shard.Parse("auto", Env(("SLURM_ARRAY_TASK_ID", "12"), ("SLURM_ARRAY_TASK_MIN", "10"), ("SLURM_ARRAY_TASK_COUNT", "4"))));

    [Theory]
    [InlineData("JOB_COMPLETION_INDEX", "REASONER_SHARD_COUNT")]      // the manifest did not set the count
    [InlineData(null, "neither")]                                     // no scheduler
    public void Shard_auto_says_what_is_missing(string? variable, string expected)
    {
        var env = variable is null ? Env() : Env((variable, "0"));
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => Shard.Parse("auto", env)).Message);
    }

    [Fact]
    public void Shard_auto_refuses_an_index_outside_the_count() =>
        Assert.Throws<ArgumentException>(() => Shard.Parse("auto", Env(("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "4"))));
}
