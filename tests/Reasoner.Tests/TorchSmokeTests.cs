using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests;

public class TorchSmokeTests
{
    [Fact]
    public void ForwardBackwardAndOptimizerStepChangeTheWeightsAndLowerTheLoss()
    {
        torch.manual_seed(1);
        var model = nn.Sequential(("l1", nn.Linear(4, 8)), ("act", nn.ReLU()), ("l2", nn.Linear(8, 1)));
        var opt = optim.AdamW(model.parameters(), lr: 0.05);
        var x = torch.randn(32, 4);
        var y = x.sum(1, keepdim: true);
        var before = model.parameters().First().detach().clone();
        float first = 0, last = 0;
        for (int step = 0; step < 50; step++)
        {
            opt.zero_grad();
            using var loss = nn.functional.mse_loss(model.forward(x), y);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.False(before.allclose(model.parameters().First()));
        Assert.True(last < first * 0.5f, $"loss {first} -> {last}");
    }
}
