using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

public class TinyModelsTests
{
    /// <summary>Tests that need particular random weights get them whatever runs beside them: the global generator is stirred in between.</summary>
    [Fact]
    public void ASeedGivesTheSameWeightsWhateverTheGlobalGeneratorDoesMeanwhile()
    {
        using var first = TinyModels.Create(TinyModels.Config(), seed: 9);
        manual_seed(12345);
        using (var noise = randn(1000)) { }
        using var second = TinyModels.Create(TinyModels.Config(), seed: 9);
        using var other = TinyModels.Create(TinyModels.Config(), seed: 10);

        Assert.All(first.parameters().Zip(second.parameters()), p => Assert.True(p.First.allclose(p.Second, 0, 0)));
        Assert.Contains(first.parameters().Zip(other.parameters()), p => !p.First.allclose(p.Second, 0, 0));
    }
}
