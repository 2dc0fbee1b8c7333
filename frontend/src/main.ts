import 'primeicons/primeicons.css';
import './global.css';
import { createPinia } from 'pinia';
import PrimeVue from 'primevue/config';
import ConfirmationService from 'primevue/confirmationservice';
import ToastService from 'primevue/toastservice';
import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import { FieldstationPreset } from './theme';

createApp(App)
  .use(createPinia())
  .use(router)
  .use(PrimeVue, {
    theme: { preset: FieldstationPreset },
    // A password field without the strength overlay is a plain textbox, where aria-expanded
    // is not allowed (axe aria-allowed-attr, critical).
    pt: {
      password: {
        pcInputText: { root: { 'aria-expanded': undefined, 'aria-haspopup': undefined } },
      },
    },
  })
  .use(ToastService)
  .use(ConfirmationService)
  .mount('#app');
