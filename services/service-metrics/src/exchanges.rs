//! The meter's work: every successful exchange it recorded, and the first exchanges of a person
//! through a PGO in a calendar year it wrote durably (what the fee counts).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

/// The meter's counts.
#[derive(Debug, Clone, Default)]
pub struct ExchangeMetrics {
    recorded: Counter,
    first: Counter,
}

impl ExchangeMetrics {
    /// Counts an exchange the meter recorded; `first` when it wrote it as the first of its year.
    pub fn recorded(&self, first: bool) {
        self.recorded.inc();
        if first {
            self.first.inc();
        }
    }

    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register("meter_exchanges", "Successful exchanges the meter recorded", self.recorded.clone());
        registry.register(
            "meter_first_exchanges",
            "First exchanges of a person through a PGO in a calendar year, written durably",
            self.first.clone(),
        );
    }
}
