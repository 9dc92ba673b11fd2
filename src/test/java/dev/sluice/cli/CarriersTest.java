package dev.sluice.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How many carrier threads the command gives the virtual-thread scheduler (docs/operations.md, "Threads"). */
class CarriersTest {
    private final String before = System.getProperty(SluiceCommand.CARRIERS);

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(SluiceCommand.CARRIERS);
        } else {
            System.setProperty(SluiceCommand.CARRIERS, before);
        }
    }

    @Test
    void twiceTheCoresAndAtLeastEight() {
        assertThat(SluiceCommand.carriers(1)).isEqualTo(8);
        assertThat(SluiceCommand.carriers(2)).isEqualTo(8);
        assertThat(SluiceCommand.carriers(4)).isEqualTo(8);
        assertThat(SluiceCommand.carriers(6)).isEqualTo(12);
        assertThat(SluiceCommand.carriers(32)).isEqualTo(64);
    }

    @Test
    void setWhenTheJvmWasToldNoNumber() {
        System.clearProperty(SluiceCommand.CARRIERS);

        SluiceCommand.carryVirtualThreadsOnMoreThreadsThanCores();

        assertThat(System.getProperty(SluiceCommand.CARRIERS))
                .isEqualTo(Integer.toString(SluiceCommand.carriers(Runtime.getRuntime().availableProcessors())));
    }

    @Test
    void aNumberGivenToTheJvmIsKept() {
        System.setProperty(SluiceCommand.CARRIERS, "3");

        SluiceCommand.carryVirtualThreadsOnMoreThreadsThanCores();

        assertThat(System.getProperty(SluiceCommand.CARRIERS)).isEqualTo("3");
    }
}
