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

    /// <summary>
    /// Runs <paramref name="work"/> on a thread of its own with <paramref name="threads"/> intra-op threads, and waits
    /// for it. libtorch runs parallel calls on an OpenMP team per OS thread, and a team outlives the call while its
    /// thread lives; once the process holds more team threads than cores, libgomp makes idle ones sleep instead of spin,
    /// and every parallel call of the engine's loop thread then waits for a wake-up. The thread that loaded the model is
    /// enough for that on two cores (README, <c>bench search</c>'s builds side by side). So models that an engine serves load here, on one thread: the thread and anything it
    /// started end with the load, and no thread's count or the process default changes.
    /// </summary>
    public static T OnThreadOfItsOwn<T>(Func<T> work, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        T result = default!;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                SetForCurrentThread(threads);
                result = work();
            }
            catch (Exception error)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error);
            }
        }) { Name = "libtorch work" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
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
