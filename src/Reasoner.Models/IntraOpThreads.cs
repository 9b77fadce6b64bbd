using System.Runtime.InteropServices;
using TorchSharp;

namespace Reasoner.Models;

/// <summary>
/// libtorch's intra-op threads for the calling thread alone. <c>torch.set_num_threads</c> also changes the process-wide
/// default that every thread starting libtorch work later picks up, so an engine thread that dropped to one thread
/// would silently slow a trainer that resumes on a fresh thread-pool thread after an <c>await</c>. libtorch's CPU
/// kernels size their OpenMP teams by the calling thread's <c>omp_get_max_threads()</c> and MKL by its thread-local
/// setting, so setting those two on this thread changes this thread only.
/// </summary>
public static class IntraOpThreads
{
    private delegate void OmpSetNumThreads(int threads);

    private delegate int MklSetNumThreadsLocal(int threads);

    private static readonly Lazy<(OmpSetNumThreads Omp, MklSetNumThreadsLocal Mkl)?> Setters = new(Resolve);

    /// <summary>Whether this libtorch build lets one thread's count be set (the CPU and CUDA Linux builds do).</summary>
    public static bool IsSupported => Setters.Value is not null;

    /// <summary>
    /// Sets the calling thread's intra-op threads; other threads and the process default keep theirs. Where that is not
    /// supported (see <see cref="IsSupported"/>) nothing changes.
    /// </summary>
    public static void SetForCurrentThread(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (Setters.Value is not { } set) return;
        // libtorch initialises a thread's count from the process default on its first parallel call; that must
        // happen first, or it would undo the setting below.
        torch.get_num_threads();
        set.Omp(threads);
        set.Mkl(threads);
    }

    /// <summary>The calling thread's intra-op threads.</summary>
    public static int ForCurrentThread => torch.get_num_threads();

    private static readonly object ReservationGate = new();

    /// <summary>
    /// While a reservation holds: the threads an engine's large forwards run on (the process default before it), the
    /// default of <see cref="Generation.TorchEngineOptions.Threads"/>. Null otherwise.
    /// </summary>
    public static int? EngineThreads { get; private set; }

    /// <summary>
    /// Gives the cores to the engines: the process default drops to one thread, so that the thread loading the model,
    /// search workers and every other thread that touches libtorch run on one, and only an engine's loop thread (which
    /// takes <see cref="EngineThreads"/> for its large forwards) keeps a team of several. libgomp makes idle team threads
    /// sleep instead of spin once the process has more of them than cores, and a second team — the loading thread's —
    /// is enough for that on two cores: every parallel call of the engine then waits for a wake-up (README, <c>bench
    /// search</c>: 4 workers gave 1.4× the trees/min with the reservation). Commands that serve from an in-process engine
    /// (generate, serve, serve-model, bench generate, bench search) hold one for their run; disposing it restores the
    /// default on the calling thread and for threads that start libtorch work later.
    /// </summary>
    public static IDisposable ReserveForEngines()
    {
        lock (ReservationGate)
        {
            if (EngineThreads is not null) return new Reservation(null);
            int previous = torch.get_num_threads();
            EngineThreads = previous;
            torch.set_num_threads(1);
            return new Reservation(previous);
        }
    }

    private sealed class Reservation(int? previous) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed || previous is not { } threads) return;
            disposed = true;
            lock (ReservationGate)
            {
                torch.set_num_threads(threads);
                EngineThreads = null;
            }
        }
    }

    // libtorch_cpu exports MKL's setter (MKL_Set_Num_Threads_Local takes its int by value; the lower-case names are
    // the Fortran interface, which takes a pointer) and links libgomp, whose name carries a build hash: looking the OpenMP symbol up
    // through libtorch_cpu's handle searches its dependencies, whatever their file names.
    private static (OmpSetNumThreads, MklSetNumThreadsLocal)? Resolve()
    {
        if (!OperatingSystem.IsLinux()) return null;
        torch.get_num_threads(); // loads the native libraries
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out var libtorch)
            && !NativeLibrary.TryLoad("libtorch_cpu.so", out libtorch)) return null;
        if (!NativeLibrary.TryGetExport(libtorch, "omp_set_num_threads", out var omp)
            || !NativeLibrary.TryGetExport(libtorch, "MKL_Set_Num_Threads_Local", out var mkl)) return null;
        return (Marshal.GetDelegateForFunctionPointer<OmpSetNumThreads>(omp), Marshal.GetDelegateForFunctionPointer<MklSetNumThreadsLocal>(mkl));
    }
}
