using TorchSharp;

namespace Reasoner.Models;

/// <summary>Device selection: the device is a setting ("cpu", "cuda", "cuda:1"), never a code path.</summary>
public static class TorchRuntime
{
    public static torch.Device ParseDevice(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return torch.CPU;
        if (n.StartsWith("cuda"))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{name}' requested but CUDA is not available (build with -p:Gpu=cuda12 on a CUDA machine)");
            return torch.device(n);
        }
        throw new ArgumentException($"unknown device '{name}': use cpu, cuda or cuda:N");
    }
}
