using System.Runtime.InteropServices;

namespace Reasoner.Cli.Bench;

/// <summary>
/// Peak resident memory of a piece of work, as the rise of the process's RSS high-water mark above the RSS when it
/// started. On the CPU this is what counts: libtorch's CPU allocator keeps no statistics (those are CUDA-only),
/// and tensors are plain malloc memory. Linux only: the high-water mark (VmHWM) is reset by writing 5 to
/// /proc/self/clear_refs, and glibc is asked to return freed heap pages first, so memory an earlier run freed
/// but glibc kept does not hide this run's needs.
/// </summary>
static class PeakMemory
{
    private const string StatusFile = "/proc/self/status";

    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && File.Exists(StatusFile);

    /// <summary>Starts a measurement; returns the RSS to subtract from the peak, in bytes (0 where unavailable).</summary>
    public static long Reset()
    {
        if (!IsAvailable) return 0;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        TrimMallocHeap();
        File.WriteAllText("/proc/self/clear_refs", "5");
        return Read("VmRSS:");
    }

    /// <summary>Bytes the high-water mark rose above <paramref name="start"/>; null where unavailable.</summary>
    public static long? Since(long start) => IsAvailable ? Math.Max(0, Read("VmHWM:") - start) : null;

    private static long Read(string field)
    {
        foreach (var line in File.ReadLines(StatusFile))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024; // "kB"
        throw new InvalidDataException($"{StatusFile} has no {field}");
    }

    private static void TrimMallocHeap()
    {
        try { malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc: the mark is just looser
    }

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);
}
