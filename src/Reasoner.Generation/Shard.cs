using System.Globalization;
using Reasoner.Core.Tasks;

namespace Reasoner.Generation;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/>: the problems whose id hashes (FNV-1a, the same on every machine,
/// unlike <see cref="string.GetHashCode()"/>) to <see cref="Index"/> mod <see cref="Count"/>. The shards of one count
/// partition any problem list, so n processes given the same sources and run folder search each problem once.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static Shard All { get; } = new(0, 1);

    public bool IsAll => Count == 1;

    /// <summary>Segment writer id of this shard, so a run folder shows which shard wrote what.</summary>
    public string? WriterId => IsAll ? null : $"shard-{Index}-of-{Count}";

    public bool Contains(string problemId) => IsAll || StableHash.Fnv1a64(problemId) % (ulong)Count == (ulong)Index;

    /// <summary>Names the variable a Kubernetes manifest sets to its Job's <c>completions</c> (Indexed Jobs give only the index).</summary>
    public const string KubernetesCountVariable = "REASONER_SHARD_COUNT";

    /// <summary>"i/n" with 0 ≤ i &lt; n, or "auto" (<see cref="FromScheduler"/>); empty or null is <see cref="All"/>.</summary>
    public static Shard Parse(string? text, Func<string, string?>? environment = null)
    {
        if (string.IsNullOrWhiteSpace(text)) return All;
        if (text == "auto") return FromScheduler(environment ?? Environment.GetEnvironmentVariable);
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1 && index < count)
            return new Shard(index, count);
        throw new ArgumentException($"shard '{text}': expected i/n with 0 <= i < n, e.g. 0/4");
    }

    /// <summary>
    /// i/n from the scheduler that started this process: a Kubernetes Indexed Job (i = <c>JOB_COMPLETION_INDEX</c>, n =
    /// <see cref="KubernetesCountVariable"/>, which the manifest sets), or a Slurm job array (i = <c>SLURM_ARRAY_TASK_ID</c> −
    /// <c>SLURM_ARRAY_TASK_MIN</c>, n = <c>SLURM_ARRAY_TASK_COUNT</c>). An <see cref="ArgumentException"/> says what is missing.
    /// </summary>
    public static Shard FromScheduler(Func<string, string?> environment)
    {
        int? Read(string name) =>
            environment(name) is { Length: > 0 } value
                ? int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
                : throw new ArgumentException($"--shard auto: {name} is '{value}', not a whole number")
                : null;
        if (Read("JOB_COMPLETION_INDEX") is { } k8sIndex)
        {
            var count = Read(KubernetesCountVariable)
                ?? throw new ArgumentException($"--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but {KubernetesCountVariable} is not: set it to the Job's completions in the manifest");
            return Checked(k8sIndex, count, "JOB_COMPLETION_INDEX", KubernetesCountVariable);
        }
        if (Read("SLURM_ARRAY_TASK_ID") is { } taskId)
        {
            var min = Read("SLURM_ARRAY_TASK_MIN") ?? throw new ArgumentException("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not");
            var count = Read("SLURM_ARRAY_TASK_COUNT") ?? throw new ArgumentException("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
            return Checked(taskId - min, count, "SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT");
        }
        throw new ArgumentException("--shard auto: neither a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) nor a Slurm job array (SLURM_ARRAY_TASK_ID) started this process; give --shard i/n");
    }

    static Shard Checked(int index, int count, string indexName, string countName) =>
        count >= 1 && index >= 0 && index < count ? new Shard(index, count)
        : throw new ArgumentException($"--shard auto: {indexName} = {index} and {countName} = {count} do not make a shard i/n with 0 <= i < n (a Slurm array with steps, like 0-10:2, is not contiguous: use --shard i/n)");

    public override string ToString() => $"{Index}/{Count}";
}
