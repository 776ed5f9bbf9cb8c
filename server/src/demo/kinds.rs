//! The establishment types of the demo with what differs between them: checklist group, whether
//! the security-and-order (ANTT) certificate is required, when inspections usually happen.

use doi178_shared::establishment::EstablishmentType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Karaoke,
    DanceHall,
    MassageSauna,
    Hotel,
    Guesthouse,
    Bar,
    RestaurantHostess,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Karaoke,
        Kind::DanceHall,
        Kind::MassageSauna,
        Kind::Hotel,
        Kind::Guesthouse,
        Kind::Bar,
        Kind::RestaurantHostess,
        Kind::Other,
    ];

    pub const fn code(self) -> &'static str {
        self.establishment_type().as_str()
    }

    /// The product's establishment type.
    pub const fn establishment_type(self) -> EstablishmentType {
        match self {
            Kind::Karaoke => EstablishmentType::Karaoke,
            Kind::DanceHall => EstablishmentType::DanceHall,
            Kind::MassageSauna => EstablishmentType::MassageSauna,
            Kind::Hotel => EstablishmentType::Hotel,
            Kind::Guesthouse => EstablishmentType::Guesthouse,
            Kind::Bar => EstablishmentType::Bar,
            Kind::RestaurantHostess => EstablishmentType::RestaurantHostess,
            Kind::Other => EstablishmentType::Other,
        }
    }

    pub const fn index(self) -> usize {
        self as usize
    }

    /// Business lines that need the ANTT certificate (Decree 96/2016 Art. 3).
    pub const fn needs_antt(self) -> bool {
        matches!(
            self,
            Kind::Karaoke | Kind::DanceHall | Kind::MassageSauna | Kind::Hotel | Kind::Guesthouse
        )
    }

    pub const fn is_lodging(self) -> bool {
        matches!(self, Kind::Hotel | Kind::Guesthouse)
    }

    /// Night-time businesses are mostly inspected in the evening.
    pub const fn is_nightlife(self) -> bool {
        matches!(
            self,
            Kind::Karaoke | Kind::DanceHall | Kind::Bar | Kind::RestaurantHostess
        )
    }

    /// Types in the programmes' scope ("other" is registered but not counted).
    pub fn in_scope() -> Vec<&'static str> {
        Kind::ALL
            .iter()
            .filter(|k| **k != Kind::Other)
            .map(|k| k.code())
            .collect()
    }

    /// How much more often than average this type has violations.
    pub const fn violation_factor(self) -> f64 {
        match self {
            Kind::Karaoke => 1.15,
            Kind::DanceHall => 1.3,
            Kind::MassageSauna => 1.25,
            Kind::Hotel => 0.7,
            Kind::Guesthouse => 1.05,
            Kind::Bar => 0.9,
            Kind::RestaurantHostess => 1.1,
            Kind::Other => 0.5,
        }
    }
}
